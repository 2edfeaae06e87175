package main

import (
	"strings"
	"testing"
)

func TestParseAndMatch(t *testing.T) {
	readme := "text\n```sh\n$ echo a\na\n$ echo b; echo c\nc\n```\n```\nnot run\n```\n```sh slow\n$ sleep 100\n```\n"
	blocks, err := parse([]byte(readme))
	if err != nil || len(blocks) != 2 || blocks[0].slow || !blocks[1].slow || len(blocks[0].steps) != 2 ||
		blocks[0].steps[1].command != "echo b; echo c" || strings.Join(blocks[0].steps[1].want, ",") != "c" || blocks[0].steps[0].line != 3 {
		t.Fatalf("parse = %+v, %v", blocks, err)
	}
	blocks, err = parse([]byte("```sh\n$ echo a \\\n  b\na b\n$ echo c\n```\n"))
	if err != nil || len(blocks) != 1 || len(blocks[0].steps) != 2 || blocks[0].steps[0].command != "echo a \\\n  b" ||
		strings.Join(blocks[0].steps[0].want, ",") != "a b" {
		t.Fatalf("a continued command: parse = %+v, %v", blocks, err)
	}
	for _, bad := range []string{"```sh\nout\n```\n", "```sh\n```\n", "```sh\n$ x\n"} {
		if _, err := parse([]byte(bad)); err == nil {
			t.Errorf("parse(%q) accepted it", bad)
		}
	}
	for _, c := range []struct {
		out  string
		want []string
		ok   bool
	}{
		{"a\nb\nc\n", []string{"a", "c"}, true},
		{"a\nb\nc\n", []string{"c", "a"}, false},
		{"loss = 2.75 (x)\n", []string{"loss = … (x)"}, true},
		{"loss = 2.75\n", []string{"loss = 3…"}, false},
		{"a.b\n", []string{"a…"}, true},
		{"axb\n", []string{"a.b"}, false},
	} {
		if ok, _ := matches(c.out, c.want); ok != c.ok {
			t.Errorf("matches(%q, %q) = %v", c.out, c.want, ok)
		}
	}
}
