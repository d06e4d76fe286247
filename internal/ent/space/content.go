package space

import (
	"bytes"
	"mime"
	"net/http"
	"path"
	"strings"
)

// deniedExtensions are programs and scripts that run when double-clicked on
// a school computer; a document space has no reason to carry them.
var deniedExtensions = map[string]bool{
	".exe": true, ".com": true, ".scr": true, ".pif": true, ".msi": true, ".msp": true, ".dll": true, ".cpl": true,
	".bat": true, ".cmd": true, ".vbs": true, ".vbe": true, ".jse": true, ".wsf": true, ".wsh": true, ".hta": true,
	".ps1": true, ".psm1": true, ".lnk": true, ".reg": true, ".jar": true, ".apk": true, ".appimage": true,
	".elf": true, ".dmg": true, ".pkg": true, ".deb": true, ".rpm": true,
}

// deniedTypes are the media types of the same, whatever the name says.
var deniedTypes = map[string]bool{
	"application/x-msdownload": true, "application/x-dosexec": true, "application/x-executable": true,
	"application/vnd.microsoft.portable-executable": true, "application/x-msi": true, "application/x-ms-installer": true,
	"application/java-archive": true, "application/x-java-archive": true, "application/vnd.android.package-archive": true,
	"application/x-sharedlib": true, "application/x-mach-binary": true, "application/x-elf": true, "application/hta": true,
}

// executableMagic are the first bytes of native programs.
var executableMagic = [][]byte{
	[]byte("MZ"),             // Windows PE / DOS
	[]byte("\x7fELF"),        // Linux
	{0xfe, 0xed, 0xfa, 0xce}, // Mach-O 32
	{0xfe, 0xed, 0xfa, 0xcf}, // Mach-O 64
	{0xce, 0xfa, 0xed, 0xfe}, // Mach-O 32 LE
	{0xcf, 0xfa, 0xed, 0xfe}, // Mach-O 64 LE
	{0xca, 0xfe, 0xba, 0xbe}, // Mach-O universal (and Java classes)
}

// sniffLen is how much of a file the type detection reads.
const sniffLen = 512

// DetectType returns the content type of a file from its name and first
// bytes, and whether it is refused. The name's extension is trusted for
// display only when the content does not contradict it.
func DetectType(name string, head []byte) (contentType string, denied bool) {
	ext := strings.ToLower(path.Ext(name))
	if deniedExtensions[ext] {
		return "application/octet-stream", true
	}
	for _, m := range executableMagic {
		if bytes.HasPrefix(head, m) {
			return "application/octet-stream", true
		}
	}
	sniffed := http.DetectContentType(head)
	byExt := mime.TypeByExtension(ext)
	ct := sniffed
	// The sniffer knows few office formats (they are zip or plain text to
	// it); the extension is more precise then.
	if byExt != "" && (strings.HasPrefix(sniffed, "text/plain") || sniffed == "application/octet-stream" || sniffed == "application/zip") {
		ct = byExt
	}
	base, _, _ := strings.Cut(ct, ";")
	if deniedTypes[strings.TrimSpace(base)] {
		return ct, true
	}
	return ct, false
}
