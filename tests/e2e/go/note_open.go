// note_open checks a signed note with Go's golang.org/x/mod/sumdb/note,
// the reference implementation of C2SP signed notes, as an independent
// reader of Haven's cosigned checkpoints:
//
//	note_open VERIFIER_KEY NOTE_FILE
//
// It opens the note with the node's verifier key and prints one line,
// "verified=N unverified=M", then one line per unverified signature
// ("unverified NAME KEYHASH", hash in hex): a witness's cosignature must
// be carried as an additional signature, not break the note. Exit 0 if
// note.Open accepts the note, 1 if it does not, 2 on usage errors.
package main

import (
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: note_open VERIFIER_KEY NOTE_FILE")
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fmt.Println("bad verifier key:", err)
		os.Exit(2)
	}
	msg, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Println("cannot read note:", err)
		os.Exit(2)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fmt.Println("note.Open:", err)
		os.Exit(1)
	}
	fmt.Printf("verified=%d unverified=%d\n", len(n.Sigs), len(n.UnverifiedSigs))
	for _, sig := range n.UnverifiedSigs {
		fmt.Printf("unverified %s %08x\n", sig.Name, sig.Hash)
	}
}
