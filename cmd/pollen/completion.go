package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

func init() {
	register(&command{
		name:    "completion",
		args:    "bash|zsh|fish",
		summary: "print a shell completion script for pollen's commands and flags",
		help: `Load it in the shell's start-up file:

  bash:  source <(pollen completion bash)        (in ~/.bashrc)
  zsh:   source <(pollen completion zsh)         (in ~/.zshrc)
  fish:  pollen completion fish | source         (in ~/.config/fish/config.fish)

Commands and their flags complete; other words complete as file names.`,
		run: runCompletion,
	})
}

func runCompletion(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 1 {
		return usagef("completion: want bash, zsh or fish")
	}
	switch args[0] {
	case "bash":
		bashCompletion(e.data, false)
	case "zsh":
		bashCompletion(e.data, true)
	case "fish":
		fishCompletion(e.data)
	default:
		return usagef("completion: %q is not bash, zsh or fish", args[0])
	}
	return nil
}

// commandFlags lists each command's flags (--repo included), by command.
func commandFlags() (names []string, flags map[string][]*flag.Flag) {
	flags = map[string][]*flag.Flag{}
	for n, c := range commands {
		names = append(names, n)
		fs := flag.NewFlagSet(n, flag.ContinueOnError)
		var o opts
		fs.StringVar(&o.repo, "repo", "", "repository folder (default $POLLEN_REPO or ~/.pollen)")
		if c.flags != nil {
			c.flags(fs, &o)
		}
		fs.VisitAll(func(f *flag.Flag) { flags[n] = append(flags[n], f) })
	}
	sort.Strings(names)
	return names, flags
}

// bashCompletion writes a bash completion function; zsh runs it through
// bashcompinit.
func bashCompletion(w io.Writer, zsh bool) {
	names, flags := commandFlags()
	if zsh {
		fmt.Fprintln(w, "autoload -U +X bashcompinit && bashcompinit")
	}
	fmt.Fprintf(w, `_pollen() {
	local cur=${COMP_WORDS[COMP_CWORD]} cmd= i opts=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--repo) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "%s --repo --version --help" -- "$cur"))
		return
	fi
	case $cmd in
`, strings.Join(names, " "))
	for _, n := range names {
		var fl []string
		for _, f := range flags[n] {
			fl = append(fl, "--"+f.Name)
		}
		fmt.Fprintf(w, "\t%s) opts=%q ;;\n", n, strings.Join(fl, " "))
	}
	fmt.Fprint(w, `	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -o default -F _pollen pollen
`)
}

// fishCompletion writes fish's completions: commands with their
// summaries, then each command's flags with theirs.
func fishCompletion(w io.Writer) {
	names, flags := commandFlags()
	fmt.Fprintln(w, "complete -c pollen -f")
	fmt.Fprintln(w, "complete -c pollen -l repo -r -d 'repository folder'")
	for _, n := range names {
		fmt.Fprintf(w, "complete -c pollen -n __fish_use_subcommand -a %s -d %s\n", n, fishQuote(commands[n].summary))
	}
	for _, n := range names {
		for _, f := range flags[n] {
			if f.Name == "repo" {
				continue
			}
			fmt.Fprintf(w, "complete -c pollen -n '__fish_seen_subcommand_from %s' -l %s -d %s\n", n, f.Name, fishQuote(firstLine(f.Usage)))
		}
		fmt.Fprintf(w, "complete -c pollen -n '__fish_seen_subcommand_from %s' -F\n", n)
	}
}

func fishQuote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
