// Package secret encrypts small secrets at rest (remote IMAP passwords) with
// AES-256-GCM under the operator's TRASLOCO_SECRET_KEY.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length in bytes of the key a Box needs (AES-256).
const KeySize = 32

// ErrOpen is returned by Open when the ciphertext is malformed, was sealed
// with another key or associated data, or has been tampered with.
var ErrOpen = errors.New("open secret: message authentication failed")

// Box seals and opens secrets. A Box is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box for a KeySize-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("new secret box: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new secret box: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new secret box: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext and returns nonce||ciphertext||tag. The
// associated data is authenticated but not stored: pass something that binds
// the secret to its row (for example "migration_line:42") so a ciphertext
// copied onto another row does not open there.
func (b *Box) Seal(plaintext, associatedData []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal secret: read nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, associatedData), nil
}

// Open decrypts what Seal returned, given the same associated data. Any
// mismatch or tampering gives ErrOpen.
func (b *Box) Open(sealed, associatedData []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < ns+b.aead.Overhead() {
		return nil, ErrOpen
	}
	plaintext, err := b.aead.Open(nil, sealed[:ns], sealed[ns:], associatedData)
	if err != nil {
		return nil, ErrOpen
	}
	return plaintext, nil
}
