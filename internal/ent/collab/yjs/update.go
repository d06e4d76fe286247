package yjs

import (
	"fmt"
	"slices"
)

// decodedUpdate is a v1 update fully read and validated, not yet applied:
// the structs of each client in clock order, and the delete set.
type decodedUpdate struct {
	// clients in the order they appear in the message.
	clients []clientBlocks
	ds      deleteSet
}

type clientBlocks struct {
	client uint64
	blocks []*item
}

// decodeUpdate reads a whole v1 update. It checks everything that does not
// depend on the receiving document, so that integration cannot fail halfway.
func decodeUpdate(b []byte) (*decodedUpdate, error) {
	d := newDecoder(b)
	u := &decodedUpdate{}
	// Each client section is at least three bytes: count, client, clock.
	nClients, err := d.readLen(3)
	if err != nil {
		return nil, fmt.Errorf("client count: %w", err)
	}
	for range nClients {
		// The smallest struct (a GC or a skip) takes two bytes.
		nStructs, err := d.readLen(2)
		if err != nil {
			return nil, fmt.Errorf("struct count: %w", err)
		}
		client, err := d.readVarUint()
		if err != nil {
			return nil, fmt.Errorf("client id: %w", err)
		}
		clock, err := d.readVarUint()
		if err != nil {
			return nil, fmt.Errorf("start clock of client %d: %w", client, err)
		}
		blocks := make([]*item, 0, min(nStructs, 1024))
		for i := range nStructs {
			blk, err := readBlock(d, client, clock)
			if err != nil {
				return nil, fmt.Errorf("struct %d of client %d: %w", i, client, err)
			}
			clock += blk.length
			if clock > maxSafeInteger {
				return nil, fmt.Errorf("%w: clock of client %d beyond 2^53", ErrMalformed, client)
			}
			blocks = append(blocks, blk)
		}
		u.clients = append(u.clients, clientBlocks{client, blocks})
	}
	ds, err := readDeleteSet(d)
	if err != nil {
		return nil, fmt.Errorf("delete set: %w", err)
	}
	u.ds = ds
	return u, nil
}

// readBlock reads one struct of client starting at clock.
func readBlock(d *decoder, client, clock uint64) (*item, error) {
	info, err := d.readByte()
	if err != nil {
		return nil, err
	}
	id := ID{client, clock}
	switch info & 0x1f {
	case refGC, refSkip:
		n, err := d.readVarUint()
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("%w: empty struct", ErrMalformed)
		}
		if info&0x1f == refGC {
			return newGC(id, n), nil
		}
		return newSkip(id, n), nil
	}
	it := &item{id: id, kind: kindItem}
	if info&0x80 != 0 {
		if it.origin, err = readID(d); err != nil {
			return nil, err
		}
		it.hasOrigin = true
	}
	if info&0x40 != 0 {
		if it.rightOrigin, err = readID(d); err != nil {
			return nil, err
		}
		it.hasRightOrigin = true
	}
	if info&0xc0 == 0 {
		isRoot, err := d.readVarUint()
		if err != nil {
			return nil, err
		}
		if isRoot == 1 {
			if it.parentName, err = d.readVarString(); err != nil {
				return nil, err
			}
			it.parentKind = parentRoot
		} else {
			if it.parentItem, err = readID(d); err != nil {
				return nil, err
			}
			it.parentKind = parentID
		}
		if info&0x20 != 0 {
			if it.parentSub, err = d.readVarString(); err != nil {
				return nil, err
			}
			it.hasParentSub = true
		}
	}
	c, err := readContent(d, info)
	if err != nil {
		return nil, err
	}
	it.setContent(c)
	if it.length == 0 {
		// yjs never produces empty items; accepting them would break the
		// invariant that clocks tile the store.
		return nil, fmt.Errorf("%w: empty item", ErrMalformed)
	}
	// An item can only refer to its own client's earlier content.
	for _, ref := range []struct {
		ok bool
		id ID
	}{{it.hasOrigin, it.origin}, {it.hasRightOrigin, it.rightOrigin}, {it.parentKind == parentID, it.parentItem}} {
		if ref.ok && ref.id.Client == client && ref.id.Clock >= clock {
			return nil, fmt.Errorf("%w: item %d:%d refers to its own future", ErrMalformed, client, clock)
		}
	}
	return it, nil
}

func readID(d *decoder) (ID, error) {
	client, err := d.readVarUint()
	if err != nil {
		return ID{}, err
	}
	clock, err := d.readVarUint()
	if err != nil {
		return ID{}, err
	}
	return ID{client, clock}, nil
}

// writeClientsStructs writes, for every client the store knows beyond sv,
// the structs sv lacks; clients in decreasing order as yjs writes them, which
// helps the receiver integrate with fewer conflicts.
func writeClientsStructs(e *encoder, store *structStore, sv StateVector) error {
	type start struct{ client, clock uint64 }
	var starts []start
	for client, structs := range store.clients {
		if len(structs) == 0 {
			continue
		}
		clock := sv[client]
		if store.state(client) > clock {
			starts = append(starts, start{client, clock})
		}
	}
	slices.SortFunc(starts, func(a, b start) int { return cmpDesc(a.client, b.client) })
	e.writeVarUint(uint64(len(starts)))
	for _, s := range starts {
		structs := store.clients[s.client]
		clock := max(s.clock, structs[0].id.Clock)
		i := findIndex(structs, clock)
		e.writeVarUint(uint64(len(structs) - i))
		e.writeVarUint(s.client)
		e.writeVarUint(clock)
		if err := structs[i].write(e, clock-structs[i].id.Clock); err != nil {
			return err
		}
		for _, st := range structs[i+1:] {
			if err := st.write(e, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteSetFromStore computes the delete set of the whole document.
func deleteSetFromStore(store *structStore) deleteSet {
	ds := deleteSet{}
	for client, structs := range store.clients {
		for i := 0; i < len(structs); i++ {
			st := structs[i]
			if !st.deleted() {
				continue
			}
			clock, length := st.id.Clock, st.length
			for i+1 < len(structs) && structs[i+1].deleted() {
				i++
				length += structs[i].length
			}
			ds[client] = append(ds[client], deleteRange{clock, length})
		}
	}
	return ds
}
