// Package ui shows what pollen is doing: progress bars on a terminal (with
// bytes, rate and ETA) and a few plain lines when the output is a file or
// a pipe. Later it also serves the local web page. Core packages never
// import ui; progress reaches it through pollen.Progress.
package ui
