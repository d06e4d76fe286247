package yjs

import (
	"fmt"
	"slices"
	"sort"
)

// ID identifies one unit of content: the client that created it and that
// client's Lamport-like clock (its count of content units created before).
type ID struct {
	Client uint64
	Clock  uint64
}

// StateVector maps every known client to the next clock expected from it,
// i.e. the number of content units of that client the document holds.
type StateVector map[uint64]uint64

// EncodeStateVector encodes sv in the v1 format (what y-protocols' sync step
// 1 sends). Clients are written in decreasing order, as yjs does.
func EncodeStateVector(sv StateVector) []byte {
	var e encoder
	writeStateVector(&e, sv)
	return e.bytes()
}

func writeStateVector(e *encoder, sv StateVector) {
	clients := make([]uint64, 0, len(sv))
	for c := range sv {
		clients = append(clients, c)
	}
	slices.SortFunc(clients, func(a, b uint64) int { return cmpDesc(a, b) })
	e.writeVarUint(uint64(len(clients)))
	for _, c := range clients {
		e.writeVarUint(c)
		e.writeVarUint(sv[c])
	}
}

// DecodeStateVector decodes a v1 state vector. An empty input is the empty
// state vector, as yjs treats it.
func DecodeStateVector(b []byte) (StateVector, error) {
	d := newDecoder(b)
	sv, err := readStateVector(d)
	if err != nil {
		return nil, fmt.Errorf("decode state vector: %w", err)
	}
	return sv, nil
}

func readStateVector(d *decoder) (StateVector, error) {
	// Each entry is at least two bytes (client and clock).
	n, err := d.readLen(2)
	if err != nil {
		return nil, err
	}
	sv := make(StateVector, min(n, 64))
	for range n {
		client, err := d.readVarUint()
		if err != nil {
			return nil, err
		}
		clock, err := d.readVarUint()
		if err != nil {
			return nil, err
		}
		sv[client] = clock
	}
	return sv, nil
}

func cmpDesc(a, b uint64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// deleteRange is a run of deleted clocks [clock, clock+len) of one client.
type deleteRange struct {
	clock, len uint64
}

// deleteSet records deleted content per client. Yjs does not store it: it is
// computed from the struct store when needed and carried in every update.
type deleteSet map[uint64][]deleteRange

func (ds deleteSet) add(client, clock, length uint64) {
	if length == 0 {
		return
	}
	ds[client] = append(ds[client], deleteRange{clock, length})
}

// sortAndMerge orders each client's ranges and fuses overlapping or adjacent
// ones, which every consumer of a delete set relies on.
func (ds deleteSet) sortAndMerge() {
	for client, dels := range ds {
		sort.Slice(dels, func(i, j int) bool { return dels[i].clock < dels[j].clock })
		j := 1
		for i := 1; i < len(dels); i++ {
			left, right := &dels[j-1], dels[i]
			if left.clock+left.len >= right.clock {
				left.len = max(left.len, right.clock+right.len-left.clock)
			} else {
				dels[j] = right
				j++
			}
		}
		if len(dels) > 0 {
			ds[client] = dels[:j]
		}
	}
}

func (ds deleteSet) contains(id ID) bool {
	dels := ds[id.Client]
	i := sort.Search(len(dels), func(i int) bool { return dels[i].clock+dels[i].len > id.Clock })
	return i < len(dels) && dels[i].clock <= id.Clock
}

func mergeDeleteSets(sets ...deleteSet) deleteSet {
	out := deleteSet{}
	for _, ds := range sets {
		for client, dels := range ds {
			out[client] = append(out[client], dels...)
		}
	}
	out.sortAndMerge()
	return out
}

func (ds deleteSet) write(e *encoder) {
	clients := make([]uint64, 0, len(ds))
	for c, dels := range ds {
		if len(dels) > 0 {
			clients = append(clients, c)
		}
	}
	slices.SortFunc(clients, cmpDesc)
	e.writeVarUint(uint64(len(clients)))
	for _, c := range clients {
		e.writeVarUint(c)
		dels := ds[c]
		e.writeVarUint(uint64(len(dels)))
		for _, r := range dels {
			e.writeVarUint(r.clock)
			e.writeVarUint(r.len)
		}
	}
}

// readDeleteSet reads a delete set as sent (already sorted and merged by a
// well-behaved peer; we sort and merge again because a hostile one may not).
func readDeleteSet(d *decoder) (deleteSet, error) {
	n, err := d.readLen(2)
	if err != nil {
		return nil, err
	}
	ds := deleteSet{}
	for range n {
		client, err := d.readVarUint()
		if err != nil {
			return nil, err
		}
		count, err := d.readLen(2)
		if err != nil {
			return nil, err
		}
		for range count {
			clock, err := d.readVarUint()
			if err != nil {
				return nil, err
			}
			length, err := d.readVarUint()
			if err != nil {
				return nil, err
			}
			if clock+length > maxSafeInteger {
				return nil, fmt.Errorf("%w: delete range beyond 2^53", ErrMalformed)
			}
			ds.add(client, clock, length)
		}
	}
	ds.sortAndMerge()
	return ds, nil
}
