package sim

// Save copies the state into dst, a rollback state buffer; Load restores
// it. A State is a plain value (no pointers, slices or maps), so a copy
// is the whole game and Save/Load allocate nothing. See sync/rollback.
func (s *State) Save(dst *State) { *dst = *s }

// Load restores the state from src (saved by Save).
func (s *State) Load(src *State) { *s = *src }
