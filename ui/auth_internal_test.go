package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCodeExpires(t *testing.T) {
	var l logins
	now := time.Now()
	old := l.newCode(now)
	fresh := l.newCode(now.Add(codeLife - time.Second))
	if _, ok := l.redeem(old, now.Add(codeLife)); ok {
		t.Error("a code worked past its life")
	}
	if _, ok := l.redeem(fresh, now.Add(codeLife)); !ok {
		t.Error("a code died before its life")
	}
	for range maxCodes + 10 {
		l.newCode(now)
	}
	if len(l.codes) > maxCodes {
		t.Errorf("%d codes kept, want at most %d", len(l.codes), maxCodes)
	}
}

// TestTokenComparedInConstantTime reads the package: the token is
// compared with crypto/subtle, and no == or != anywhere touches it, so
// a reply's timing says nothing about how much of a guess was right.
// (Codes and sessions are looked up by their SHA-256, which is safe.)
func TestTokenComparedInConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	names, _ := filepath.Glob("*.go")
	usesSubtle := false
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "ConstantTimeCompare" {
					for _, arg := range n.Args {
						if mentionsToken(arg, true) {
							usesSubtle = true
						}
					}
				}
			case *ast.BinaryExpr:
				if (n.Op == token.EQL || n.Op == token.NEQ) && (mentionsToken(n.X, false) || mentionsToken(n.Y, false)) &&
					!isEmptyString(n.X) && !isEmptyString(n.Y) {
					t.Errorf("%s: the token compared with %s", fset.Position(n.Pos()), n.Op)
				}
			}
			return true
		})
	}
	if !usesSubtle {
		t.Error("no subtle.ConstantTimeCompare of the token")
	}
}

// mentionsToken says whether e holds a .Token; inside calls (as
// []byte(a.Token)) only if throughCalls, as a call's result is not the
// token itself.
func mentionsToken(e ast.Expr, throughCalls bool) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if _, ok := n.(*ast.CallExpr); ok && !throughCalls {
			return false
		}
		if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Token" {
			found = true
		}
		return !found
	})
	return found
}

func isEmptyString(e ast.Expr) bool {
	lit, ok := e.(*ast.BasicLit)
	return ok && lit.Value == `""`
}
