package exchange

// SetWindow sets the most missing blocks a walk asks for at once, for a
// test, and returns a func that restores it.
func SetWindow(n int) (restore func()) {
	old := window
	window = n
	return func() { window = old }
}
