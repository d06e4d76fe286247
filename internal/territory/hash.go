package territory

import (
	"crypto/sha256"
	"encoding/hex"
)

func contentHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}
