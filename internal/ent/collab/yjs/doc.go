package yjs

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Doc is a Yjs document: the struct store, the root types, and the updates
// received before their dependencies (kept pending, as yjs keeps them).
//
// A Doc is not safe for concurrent use; a sync server serializes access to
// each document (one goroutine or one mutex per document).
type Doc struct {
	clientID uint64
	gc       bool
	store    *structStore
	roots    map[string]*branch
	// rootOrder keeps root creation order for deterministic iteration.
	rootOrder []string

	// pendingStructs is a v1 update with the structs that could not be
	// integrated yet, and missing the lowest clock per client they wait for.
	pendingStructs []byte
	pendingMissing StateVector
	// pendingDeletes is a v1 update (no structs) with deletions of content
	// the document does not have yet.
	pendingDeletes []byte

	newClientID func() uint64
}

// Option configures a Doc.
type Option func(*Doc)

// WithClientID sets the client id used for local edits. Yjs client ids are
// 32-bit in practice; any value below 2^53 works.
func WithClientID(id uint64) Option { return func(d *Doc) { d.clientID = id } }

// WithGC enables or disables garbage collection of deleted content. It is on
// by default, as in yjs; turn it off to keep history (snapshots, undo).
func WithGC(enabled bool) Option { return func(d *Doc) { d.gc = enabled } }

// NewDoc returns an empty document with a random 32-bit client id.
func NewDoc(opts ...Option) *Doc {
	d := &Doc{
		gc:          true,
		store:       newStructStore(),
		roots:       map[string]*branch{},
		newClientID: func() uint64 { return uint64(rand.Uint32()) },
	}
	d.clientID = d.newClientID()
	for _, o := range opts {
		o(d)
	}
	return d
}

// ClientID returns the id under which local edits are made.
func (d *Doc) ClientID() uint64 { return d.clientID }

// root returns the root type named name, creating it on first use. Roots are
// created by accessors and by updates alike, like yjs's doc.get.
func (d *Doc) root(name string) *branch {
	if b, ok := d.roots[name]; ok {
		return b
	}
	b := newBranch(d)
	b.rootName = name
	d.roots[name] = b
	d.rootOrder = append(d.rootOrder, name)
	return b
}

// RootNames returns the names of the root types known to the document.
func (d *Doc) RootNames() []string { return slices.Clone(d.rootOrder) }

// StateVector returns the document's state vector.
func (d *Doc) StateVector() StateVector { return d.store.stateVector() }

// EncodeStateVector returns the encoded state vector (sync step 1).
func (d *Doc) EncodeStateVector() []byte { return EncodeStateVector(d.StateVector()) }

// HasPending reports whether some received content waits for missing updates.
func (d *Doc) HasPending() bool { return d.pendingStructs != nil || d.pendingDeletes != nil }

// PendingMissing returns, per client, the clock of the first missing struct
// that pending content waits for (nil when nothing is pending).
func (d *Doc) PendingMissing() StateVector {
	if d.pendingMissing == nil {
		return nil
	}
	out := make(StateVector, len(d.pendingMissing))
	for k, v := range d.pendingMissing {
		out[k] = v
	}
	return out
}

// ApplyUpdate integrates a v1 update. The update is decoded and validated
// completely before anything changes, so a malformed update returns an error
// and leaves the document as it was. Structs whose dependencies are missing
// are kept pending and integrated when the missing update arrives.
func (d *Doc) ApplyUpdate(update []byte) error {
	u, err := decodeUpdate(update)
	if err != nil {
		return fmt.Errorf("yjs: apply update: %w", err)
	}
	var pendingU *decodedUpdate
	if d.pendingDeletes != nil {
		// Decoded up front so that an error cannot strike mid-way; these
		// bytes were produced by us and always decode.
		if pendingU, err = decodeUpdate(d.pendingDeletes); err != nil {
			return fmt.Errorf("yjs: pending deletes: %w", err)
		}
	}
	tr := d.newTransaction(false)
	err = d.applyDecoded(tr, u, pendingU)
	tr.commit()
	if err != nil {
		return fmt.Errorf("yjs: apply update: %w", err)
	}
	return nil
}

func (d *Doc) applyDecoded(tr *transaction, u, pendingDS *decodedUpdate) error {
	rest, err := d.integrateStructs(tr, u)
	if err != nil {
		return err
	}
	retry := false
	if d.pendingStructs != nil {
		for client, clock := range d.pendingMissing {
			if clock < d.store.state(client) {
				retry = true
				break
			}
		}
		if rest != nil {
			for client, clock := range rest.missing {
				if m, ok := d.pendingMissing[client]; !ok || m > clock {
					d.pendingMissing[client] = clock
				}
			}
			merged, err := MergeUpdates(d.pendingStructs, rest.update)
			if err != nil {
				return err
			}
			d.pendingStructs = merged
		}
	} else if rest != nil {
		d.pendingStructs, d.pendingMissing = rest.update, rest.missing
	}

	dsRest := d.applyDeleteSet(tr, u.ds)
	if pendingDS != nil {
		dsRest2 := d.applyDeleteSet(tr, pendingDS.ds)
		switch {
		case dsRest != nil && dsRest2 != nil:
			d.pendingDeletes = encodeDeleteOnlyUpdate(mergeDeleteSets(dsRest, dsRest2))
		case dsRest != nil:
			d.pendingDeletes = encodeDeleteOnlyUpdate(dsRest)
		case dsRest2 != nil:
			d.pendingDeletes = encodeDeleteOnlyUpdate(dsRest2)
		default:
			d.pendingDeletes = nil
		}
	} else if dsRest != nil {
		d.pendingDeletes = encodeDeleteOnlyUpdate(dsRest)
	}

	if retry {
		pending := d.pendingStructs
		d.pendingStructs, d.pendingMissing = nil, nil
		pu, err := decodeUpdate(pending)
		if err != nil {
			return err
		}
		var pds *decodedUpdate
		if d.pendingDeletes != nil {
			if pds, err = decodeUpdate(d.pendingDeletes); err != nil {
				return err
			}
		}
		return d.applyDecoded(tr, pu, pds)
	}
	return nil
}

func encodeDeleteOnlyUpdate(ds deleteSet) []byte {
	var e encoder
	e.writeVarUint(0)
	ds.write(&e)
	return e.bytes()
}

type restStructs struct {
	update  []byte
	missing StateVector
}

// structCursor walks the structs of one client of an update.
type structCursor struct {
	i    int
	refs []*item
}

// integrateStructs integrates the structs of u in causal order, following
// yjs's integrateStructs: it takes clients from the highest id down, and when
// a struct depends on another client's struct it descends into that client
// first (a stack). Structs that depend on content not in the document or the
// update are returned re-encoded, to be kept pending.
func (d *Doc) integrateStructs(tr *transaction, u *decodedUpdate) (*restStructs, error) {
	store := d.store
	refsByClient := map[uint64]*structCursor{}
	for _, cb := range u.clients {
		// A client appearing twice: the last section wins, as in yjs.
		refsByClient[cb.client] = &structCursor{refs: cb.blocks}
	}
	ids := make([]uint64, 0, len(refsByClient))
	for c, cur := range refsByClient {
		if len(cur.refs) > 0 {
			ids = append(ids, c)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)

	nextTarget := func() *structCursor {
		for len(ids) > 0 {
			t := refsByClient[ids[len(ids)-1]]
			if t != nil && t.i < len(t.refs) {
				return t
			}
			ids = ids[:len(ids)-1]
		}
		return nil
	}
	cur := nextTarget()
	if cur == nil {
		return nil, nil
	}
	restClients := map[uint64][]*item{}
	missingSV := StateVector{}
	updateMissing := func(client, clock uint64) {
		if m, ok := missingSV[client]; !ok || m > clock {
			missingSV[client] = clock
		}
	}
	var stack []*item
	head := cur.refs[cur.i]
	cur.i++
	state := map[uint64]uint64{}

	addStackToRest := func() {
		for _, it := range stack {
			client := it.id.Client
			if refs, ok := refsByClient[client]; ok {
				// The struct on the stack was taken from refs: put it back.
				refs.i--
				restClients[client] = slices.Clone(refs.refs[refs.i:])
				delete(refsByClient, client)
				refs.i, refs.refs = 0, nil
			} else {
				restClients[client] = []*item{it}
			}
			ids = slices.DeleteFunc(ids, func(c uint64) bool { return c == client })
		}
		stack = stack[:0]
	}

	for {
		if head.kind != kindSkip {
			client := head.id.Client
			localClock, ok := state[client]
			if !ok {
				localClock = store.state(client)
				state[client] = localClock
			}
			if localClock < head.id.Clock {
				// An earlier update of the same client is missing.
				stack = append(stack, head)
				updateMissing(client, head.id.Clock-1)
				addStackToRest()
			} else {
				offset := localClock - head.id.Clock
				missing, isMissing, err := head.getMissing(tr)
				if err != nil {
					return nil, err
				}
				if isMissing {
					stack = append(stack, head)
					refs := refsByClient[missing]
					if refs == nil || refs.i == len(refs.refs) {
						// Depends on an update that has not arrived yet.
						updateMissing(missing, store.state(missing))
						addStackToRest()
					} else {
						head = refs.refs[refs.i]
						refs.i++
						continue
					}
				} else if offset == 0 || offset < head.length {
					if err := d.integrateBlock(tr, head, offset); err != nil {
						return nil, err
					}
					state[client] = head.id.Clock + head.length
				}
			}
		}
		if n := len(stack); n > 0 {
			head = stack[n-1]
			stack = stack[:n-1]
		} else if cur != nil && cur.i < len(cur.refs) {
			head = cur.refs[cur.i]
			cur.i++
		} else {
			cur = nextTarget()
			if cur == nil {
				break
			}
			head = cur.refs[cur.i]
			cur.i++
		}
	}
	if len(restClients) == 0 {
		return nil, nil
	}
	rest := &structStore{clients: restClients}
	var e encoder
	if err := writeClientsStructs(&e, rest, nil); err != nil {
		return nil, err
	}
	e.writeVarUint(0) // no deletions: those are kept apart
	return &restStructs{update: e.bytes(), missing: missingSV}, nil
}

// integrateBlock integrates a decoded struct: an item with YATA, a GC struct
// by appending it (after cutting what the store already has).
func (d *Doc) integrateBlock(tr *transaction, b *item, offset uint64) error {
	if b.kind == kindGC {
		if offset > 0 {
			b.id.Clock += offset
			b.length -= offset
		}
		return d.store.add(b)
	}
	return b.integrate(tr, offset)
}

// applyDeleteSet deletes what ds names and returns what it could not delete
// because the document lacks it yet (nil when everything applied).
func (d *Doc) applyDeleteSet(tr *transaction, ds deleteSet) deleteSet {
	store := d.store
	var unapplied deleteSet
	clients := make([]uint64, 0, len(ds))
	for c := range ds {
		clients = append(clients, c)
	}
	slices.SortFunc(clients, cmpDesc)
	for _, client := range clients {
		state := store.state(client)
		for _, r := range ds[client] {
			clock, end := r.clock, r.clock+r.len
			if clock >= state {
				if unapplied == nil {
					unapplied = deleteSet{}
				}
				unapplied.add(client, clock, end-clock)
				continue
			}
			if state < end {
				if unapplied == nil {
					unapplied = deleteSet{}
				}
				unapplied.add(client, state, end-state)
			}
			structs := store.clients[client]
			idx := findIndex(structs, clock)
			st := structs[idx]
			if !st.deleted() && st.id.Clock < clock {
				tr.splitAndInsert(st, idx, clock-st.id.Clock)
				idx++
			}
			for idx < len(store.clients[client]) {
				st = store.clients[client][idx]
				idx++
				if st.id.Clock >= end {
					break
				}
				if !st.deleted() {
					if end < st.id.Clock+st.length {
						tr.splitAndInsert(st, idx-1, end-st.id.Clock)
					}
					tr.deleteItem(st)
				}
			}
		}
	}
	return unapplied
}

// EncodeStateAsUpdate returns a v1 update with everything the document has
// that a peer at targetSV lacks (everything when targetSV is nil), plus all
// deletions and the pending content, as yjs's encodeStateAsUpdate does.
func (d *Doc) EncodeStateAsUpdate(targetSV StateVector) ([]byte, error) {
	var e encoder
	if err := writeClientsStructs(&e, d.store, targetSV); err != nil {
		return nil, fmt.Errorf("yjs: encode state: %w", err)
	}
	deleteSetFromStore(d.store).write(&e)
	updates := [][]byte{e.bytes()}
	if d.pendingDeletes != nil {
		updates = append(updates, d.pendingDeletes)
	}
	if d.pendingStructs != nil {
		diff, err := DiffUpdate(d.pendingStructs, EncodeStateVector(targetSV))
		if err != nil {
			return nil, fmt.Errorf("yjs: encode pending: %w", err)
		}
		updates = append(updates, diff)
	}
	if len(updates) == 1 {
		return updates[0], nil
	}
	return MergeUpdates(updates...)
}

// EncodeStateAsUpdate is the package-level form of Doc.EncodeStateAsUpdate
// taking an encoded state vector, like yjs's Y.encodeStateAsUpdate(doc, sv).
func EncodeStateAsUpdate(d *Doc, encodedTargetSV []byte) ([]byte, error) {
	sv := StateVector{}
	if len(encodedTargetSV) > 0 {
		var err error
		if sv, err = DecodeStateVector(encodedTargetSV); err != nil {
			return nil, err
		}
	}
	return d.EncodeStateAsUpdate(sv)
}
