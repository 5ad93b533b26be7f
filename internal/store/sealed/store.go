package sealed

import (
	"context"
	"fmt"
	"strconv"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/session"
)

// Store is a session.Store that seals the images of every session it
// writes and opens them when it reads. Methods that carry no images pass
// straight to the store below. A method added to session.Store that
// returns sessions must be added here too, or its images stay sealed.
type Store struct {
	session.Store
	keys *Keys
}

var _ session.Store = (*Store)(nil)

// New wraps inner. keys must hold at least one key.
func New(inner session.Store, keys *Keys) (*Store, error) {
	if keys == nil || keys.Len() == 0 {
		return nil, fmt.Errorf("sealed: no data key")
	}
	return &Store{Store: inner, keys: keys}, nil
}

// aad names the value: session and field, so a sealed image cannot be
// swapped with another session's or moved between fields.
func aad(id, field string) []byte { return []byte("livenessd/" + id + "/" + field) }

func auditField(i int) string { return "audit/" + strconv.Itoa(i) }

// seal returns a copy of s whose images are sealed; s is not changed.
func (st *Store) seal(s *livenessd.Session) (*livenessd.Session, error) {
	if s.Result == nil || (len(s.Result.ReferenceImage) == 0 && len(s.Result.AuditImages) == 0) {
		return s, nil
	}
	c := *s
	res := *s.Result
	c.Result = &res
	var err error
	if len(res.ReferenceImage) > 0 {
		if res.ReferenceImage, err = st.keys.Seal(res.ReferenceImage, aad(s.ID, "reference")); err != nil {
			return nil, err
		}
	}
	if len(res.AuditImages) > 0 {
		res.AuditImages = make([]livenessd.AuditImage, len(s.Result.AuditImages))
		for i, a := range s.Result.AuditImages {
			if a.JPEG, err = st.keys.Seal(a.JPEG, aad(s.ID, auditField(i))); err != nil {
				return nil, err
			}
			res.AuditImages[i] = a
		}
	}
	return &c, nil
}

// open opens the images of s in place.
func (st *Store) open(s *livenessd.Session) error {
	if s.Result == nil {
		return nil
	}
	var err error
	if len(s.Result.ReferenceImage) > 0 {
		if s.Result.ReferenceImage, err = st.keys.Open(s.Result.ReferenceImage, aad(s.ID, "reference")); err != nil {
			return fmt.Errorf("session %s: reference image: %w", s.ID, err)
		}
	}
	for i := range s.Result.AuditImages {
		a := &s.Result.AuditImages[i]
		if len(a.JPEG) == 0 {
			continue
		}
		if a.JPEG, err = st.keys.Open(a.JPEG, aad(s.ID, auditField(i))); err != nil {
			return fmt.Errorf("session %s: audit image %d: %w", s.ID, i, err)
		}
	}
	return nil
}

// Create implements session.Store.
func (st *Store) Create(ctx context.Context, s *livenessd.Session) error {
	c, err := st.seal(s)
	if err != nil {
		return err
	}
	return st.Store.Create(ctx, c)
}

// Get implements session.Store. An image that does not open is an error
// (never returned as it is): ErrUnknownKey, ErrCorrupt.
func (st *Store) Get(ctx context.Context, id string) (*livenessd.Session, error) {
	s, err := st.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := st.open(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Update implements session.Store; s.Version is updated as the store
// below updates it.
func (st *Store) Update(ctx context.Context, s *livenessd.Session, prev livenessd.Status, prevVersion int64) error {
	c, err := st.seal(s)
	if err != nil {
		return err
	}
	if err := st.Store.Update(ctx, c, prev, prevVersion); err != nil {
		return err
	}
	s.Version = c.Version
	return nil
}
