package yjs

import (
	"errors"
	"fmt"
	"sort"
)

var (
	// ErrOutOfRange is returned by edits whose index or length exceeds the
	// content.
	ErrOutOfRange = errors.New("index out of range")
	// ErrWrongDoc is returned when a type of another document, or a deleted
	// type, is edited.
	ErrWrongDoc = errors.New("yjs: type does not belong to this transaction's document")
)

// Tx is a local editing transaction, obtained from Doc.Transact. Edits made
// through it are authored by the document's client id.
type Tx struct {
	tr   *transaction
	done bool
}

// Transact runs fn as one transaction and returns the v1 update that carries
// its changes to peers (nil when nothing changed). Edits validate their
// arguments before changing anything; if fn returns an error after some
// edits succeeded, those edits stay applied (as in yjs, which has no
// rollback) and the update is still returned alongside the error.
func (d *Doc) Transact(fn func(tx *Tx) error) ([]byte, error) {
	tr := d.newTransaction(true)
	tx := &Tx{tr: tr}
	ferr := fn(tx)
	tx.done = true
	tr.commit()
	update, err := tr.encodeUpdate()
	if err != nil {
		return nil, err
	}
	return update, ferr
}

func (tx *Tx) check(b *branch) error {
	if tx == nil || tx.done {
		return errors.New("yjs: transaction is finished")
	}
	if b.doc != tx.tr.doc {
		return ErrWrongDoc
	}
	if b.isDeleted() {
		return fmt.Errorf("%w (deleted)", ErrWrongDoc)
	}
	return nil
}

// encodeUpdate writes what the transaction added and deleted.
func (tr *transaction) encodeUpdate() ([]byte, error) {
	changed := len(tr.deleteSet) > 0
	if !changed {
		for client, clock := range tr.doc.store.stateVector() {
			if tr.beforeState[client] != clock {
				changed = true
				break
			}
		}
	}
	if !changed {
		return nil, nil
	}
	var e encoder
	if err := writeClientsStructs(&e, tr.doc.store, tr.beforeState); err != nil {
		return nil, err
	}
	tr.deleteSet.write(&e)
	return e.bytes(), nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
