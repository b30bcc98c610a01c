package memory

import (
	"context"
	"slices"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.BlobShareStore = (*Store)(nil)

// join makes assetID a user of share's blob, with the DynamoDB adapter's
// conditions: share.Via ready with the blob's key, fewer than
// MaxBlobReferrers users. Called with the lock held.
func (s *Store) join(share *mediatrail.BlobShare, assetID string) error {
	via, ok := s.assets[key{share.WorkspaceID, share.Via}]
	users := s.shares[key{share.WorkspaceID, share.OwnerID}]
	if !ok || via.Status != mediatrail.StatusReady || via.StorageKey != share.Key || len(users) >= mediatrail.MaxBlobReferrers {
		return mediatrail.ErrShareLost
	}
	if users == nil {
		users = map[string]bool{}
		s.shares[key{share.WorkspaceID, share.OwnerID}] = users
	}
	users[share.Via], users[assetID] = true, true
	return nil
}

func (s *Store) BlobUsers(_ context.Context, workspaceID, ownerID string) ([]string, error) {
	if err := s.fail("BlobUsers"); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	users, ok := s.shares[key{workspaceID, ownerID}]
	if !ok || len(users) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func (s *Store) DetachBlob(_ context.Context, workspaceID, ownerID, assetID string) (int, bool, error) {
	if err := s.fail("DetachBlob"); err != nil {
		return 0, false, err
	}
	s.lock()
	defer s.mu.Unlock()
	users, ok := s.shares[key{workspaceID, ownerID}]
	if !ok {
		return 0, false, nil
	}
	delete(users, assetID)
	return len(users), true, nil
}

func (s *Store) DropSharedBlob(_ context.Context, workspaceID, ownerID string) error {
	if err := s.fail("DropSharedBlob"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	if len(s.shares[key{workspaceID, ownerID}]) > 0 {
		return mediatrail.Conflict("", "assets joined the shared blob")
	}
	delete(s.shares, key{workspaceID, ownerID})
	return nil
}

// FindAssetsBySHA256 answers the workspace's assets (any status) with bytes
// sha, newest first, as the DynamoDB adapter's GSI10 look-up does.
func (s *Store) FindAssetsBySHA256(_ context.Context, workspaceID, sha string) ([]*mediatrail.Asset, error) {
	if err := s.fail("FindAssetsBySHA256"); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	var out []*mediatrail.Asset
	for k, a := range s.assets {
		if k.workspaceID == workspaceID && a.SHA256 == sha && sha != "" {
			out = append(out, copyAsset(a))
		}
	}
	slices.SortFunc(out, func(a, b *mediatrail.Asset) int { return strings.Compare(b.ID, a.ID) })
	return out, nil
}
