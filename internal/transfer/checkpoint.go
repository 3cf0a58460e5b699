package transfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Copied records one message already at the destination.
type Copied struct {
	DestUID uint32   `json:"d"`
	Flags   []string `json:"f,omitempty"` // flags last written at the destination, sorted
	// Earlier is set by a store that knows the message was recorded by an
	// earlier run of the mailbox: absent from the destination now, it was
	// deleted there, not lost (see FolderCheck.DeletedByCustomer).
	Earlier bool `json:"-"`
}

// FolderState is the checkpoint of one source folder: which source messages
// (by UID, valid for UIDValidity) are at the destination, and where.
type FolderState struct {
	UIDValidity     uint32            `json:"uidvalidity"`
	DestFolder      string            `json:"dest_folder"`
	DestUIDValidity uint32            `json:"dest_uidvalidity"`
	Messages        map[uint32]Copied `json:"messages"`
}

// CheckpointStore keeps folder checkpoints between passes and across crashes.
// The engine records a message only after the destination confirmed it, so a
// crash can lose a record but never invent one; messages whose record was lost
// are recognised at the destination by Message-ID.
type CheckpointStore interface {
	// LoadFolder returns the folder's state; a zero state when there is none.
	LoadFolder(ctx context.Context, folder string) (FolderState, error)
	// ResetFolder replaces the folder's state by an empty one with these
	// validity values (a new folder, or a changed UIDVALIDITY).
	ResetFolder(ctx context.Context, folder string, st FolderState) error
	// RecordMessages adds or replaces message records of the folder.
	RecordMessages(ctx context.Context, folder string, msgs map[uint32]Copied) error
}

// CheckpointForgetter is a CheckpointStore that can forget messages: the
// verification forgets those the destination no longer holds though this
// run copied them, so that the next pass (Riprova) copies them again.
type CheckpointForgetter interface {
	ForgetMessages(ctx context.Context, folder string, uids []uint32) error
}

// MemoryCheckpoints is a CheckpointStore in memory, for tests and dry runs.
type MemoryCheckpoints struct {
	mu      sync.Mutex
	folders map[string]*FolderState
}

// NewMemoryCheckpoints returns an empty in-memory store.
func NewMemoryCheckpoints() *MemoryCheckpoints {
	return &MemoryCheckpoints{folders: map[string]*FolderState{}}
}

// LoadFolder implements CheckpointStore.
func (m *MemoryCheckpoints) LoadFolder(_ context.Context, folder string) (FolderState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.folders[folder]
	if !ok {
		return FolderState{}, nil
	}
	cp := *st
	cp.Messages = make(map[uint32]Copied, len(st.Messages))
	for k, v := range st.Messages {
		cp.Messages[k] = v
	}
	return cp, nil
}

// ResetFolder implements CheckpointStore.
func (m *MemoryCheckpoints) ResetFolder(_ context.Context, folder string, st FolderState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st.Messages = map[uint32]Copied{}
	m.folders[folder] = &st
	return nil
}

// RecordMessages implements CheckpointStore.
func (m *MemoryCheckpoints) RecordMessages(_ context.Context, folder string, msgs map[uint32]Copied) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.folders[folder]
	if !ok {
		return fmt.Errorf("record messages: folder %q was never reset", folder)
	}
	for k, v := range msgs {
		v.Earlier = v.Earlier || st.Messages[k].Earlier
		st.Messages[k] = v
	}
	return nil
}

// ForgetMessages implements CheckpointForgetter.
func (m *MemoryCheckpoints) ForgetMessages(_ context.Context, folder string, uids []uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st, ok := m.folders[folder]; ok {
		for _, u := range uids {
			delete(st.Messages, u)
		}
	}
	return nil
}

// Seal marks every message recorded so far as recorded by an earlier run
// (Copied.Earlier): what follows is another run of the same mailbox.
func (m *MemoryCheckpoints) Seal() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range m.folders {
		for k, v := range st.Messages {
			v.Earlier = true
			st.Messages[k] = v
		}
	}
}

// FileCheckpoints is a CheckpointStore in one JSON file, for the command
// line. Every change rewrites the file atomically (write, fsync, rename).
type FileCheckpoints struct {
	path string
	mem  *MemoryCheckpoints
	// saving makes the saves one at a time, so that the file renamed last
	// is the latest state (folders copied at once record at once).
	saving sync.Mutex
}

// OpenFileCheckpoints loads path, or starts empty when it does not exist.
func OpenFileCheckpoints(path string) (*FileCheckpoints, error) {
	fc := &FileCheckpoints{path: path, mem: NewMemoryCheckpoints()}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fc, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint file: %w", err)
	}
	var folders map[string]*FolderState
	if err := json.Unmarshal(b, &folders); err != nil {
		return nil, fmt.Errorf("read checkpoint file %s: %w", path, err)
	}
	for k, v := range folders {
		if v.Messages == nil {
			v.Messages = map[uint32]Copied{}
		}
		fc.mem.folders[k] = v
	}
	// What an earlier invocation recorded is an earlier run's.
	fc.mem.Seal()
	return fc, nil
}

// LoadFolder implements CheckpointStore.
func (f *FileCheckpoints) LoadFolder(ctx context.Context, folder string) (FolderState, error) {
	return f.mem.LoadFolder(ctx, folder)
}

// ResetFolder implements CheckpointStore.
func (f *FileCheckpoints) ResetFolder(ctx context.Context, folder string, st FolderState) error {
	if err := f.mem.ResetFolder(ctx, folder, st); err != nil {
		return err
	}
	return f.save()
}

// RecordMessages implements CheckpointStore.
func (f *FileCheckpoints) RecordMessages(ctx context.Context, folder string, msgs map[uint32]Copied) error {
	if err := f.mem.RecordMessages(ctx, folder, msgs); err != nil {
		return err
	}
	return f.save()
}

// ForgetMessages implements CheckpointForgetter.
func (f *FileCheckpoints) ForgetMessages(ctx context.Context, folder string, uids []uint32) error {
	if err := f.mem.ForgetMessages(ctx, folder, uids); err != nil {
		return err
	}
	return f.save()
}

func (f *FileCheckpoints) save() error {
	f.saving.Lock()
	defer f.saving.Unlock()
	f.mem.mu.Lock()
	b, err := json.Marshal(f.mem.folders)
	f.mem.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode checkpoints: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("write checkpoint file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write checkpoint file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write checkpoint file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write checkpoint file: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("write checkpoint file: %w", err)
	}
	return nil
}
