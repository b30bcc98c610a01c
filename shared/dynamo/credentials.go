package dynamo

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var (
	_ mediatrail.CredentialStore = (*Store)(nil)
	_ mediatrail.ToolStore       = (*Store)(nil)
)

// Credentials, their default pointers, media tools and agents' attachments
// live in the workspace's partition (see doc.go):
//
//	credential  WS#{ws}  CRED#{ksuid}          fields under their JSON names, ciphertext (B)
//	default     WS#{ws}  CREDDEF#{provider}    credential_id
//	tool        WS#{ws}  TOOL#{ksuid}          fields under their JSON names
//	agent tools WS#{ws}  AGENTTOOLS#{agent}    tool_ids (L), updated_at
//
// A workspace holds at most a few hundred of each, so lists are one Query
// of the partition's prefix: "CRED" finds credentials and default pointers
// together ("CRED#" < "CREDDEF#").
const (
	credPrefix       = "CRED#"
	credDefPrefix    = "CREDDEF#"
	toolPrefix       = "TOOL#"
	agentToolsPrefix = "AGENTTOOLS#"
	attrCiphertext   = "ciphertext"
	attrCredentialID = "credential_id"
	attrToolIDs      = "tool_ids"
)

func itemKey(ws, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(wsPK(ws)), attrSK: str(sk)}
}

// getWS reads one item of the workspace's partition consistently; nil when absent.
func (s *Store) getWS(ctx context.Context, ws, sk string) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: itemKey(ws, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("dynamo: get %s: %w", sk, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

func errCredentialNotFound() error {
	return mediatrail.Errorf(mediatrail.ENOTFOUND, "credential not found")
}
func errToolNotFound() error { return mediatrail.Errorf(mediatrail.ENOTFOUND, "media tool not found") }

func marshalCredential(c *mediatrail.Credential) (map[string]types.AttributeValue, error) {
	if !mediatrail.ValidRef(c.WorkspaceID) || !mediatrail.ValidID(c.ID) || len(c.Ciphertext) == 0 {
		return nil, mediatrail.Invalid("credential", "a credential needs a valid workspace, a KSUID and a ciphertext")
	}
	item, err := attributevalue.MarshalMapWithOptions(c, spanCodec)
	if err != nil {
		return nil, fmt.Errorf("dynamo: marshal credential %s: %w", c.ID, err)
	}
	delete(item, "is_default") // the default pointer says it
	item[attrPK], item[attrSK] = str(wsPK(c.WorkspaceID)), str(credPrefix+c.ID)
	item[attrCiphertext] = &types.AttributeValueMemberB{Value: c.Ciphertext}
	return item, nil
}

func unmarshalCredential(item map[string]types.AttributeValue) (*mediatrail.Credential, error) {
	c := &mediatrail.Credential{}
	if err := attributevalue.UnmarshalMapWithOptions(item, c, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" }); err != nil {
		return nil, fmt.Errorf("dynamo: decode credential: %w", err)
	}
	if b, ok := item[attrCiphertext].(*types.AttributeValueMemberB); ok {
		c.Ciphertext = b.Value
	}
	return c, nil
}

// CreateCredential puts the credential and, when its provider has no default
// yet, the default pointer, in one transaction. A pointer created meanwhile
// by another request leaves this one a plain credential.
func (s *Store) CreateCredential(ctx context.Context, c *mediatrail.Credential) (bool, error) {
	item, err := marshalCredential(c)
	if err != nil {
		return false, err
	}
	put := s.newItem(item)
	def := s.newItem(map[string]types.AttributeValue{
		attrPK: str(wsPK(c.WorkspaceID)), attrSK: str(credDefPrefix + c.Provider), attrCredentialID: str(c.ID),
	})
	err = s.transact(ctx, []types.TransactWriteItem{{Put: put}, {Put: def}})
	if _, failed := conditionFailed(err, 1); failed {
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item,
			ConditionExpression: put.ConditionExpression, ExpressionAttributeNames: put.ExpressionAttributeNames})
		if err != nil {
			return false, fmt.Errorf("dynamo: create credential %s: %w", c.ID, err)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamo: create credential %s: %w", c.ID, err)
	}
	return true, nil
}

// FindCredential reads a credential and its provider's default pointer.
func (s *Store) FindCredential(ctx context.Context, ws, id string) (*mediatrail.Credential, error) {
	if !mediatrail.ValidRef(ws) || !mediatrail.ValidID(id) {
		return nil, errCredentialNotFound()
	}
	item, err := s.getWS(ctx, ws, credPrefix+id)
	if err != nil || item == nil {
		return nil, cmp.Or(err, errCredentialNotFound())
	}
	c, err := unmarshalCredential(item)
	if err != nil {
		return nil, err
	}
	def, err := s.defaultID(ctx, ws, c.Provider)
	c.IsDefault = def == c.ID
	return c, err
}

func (s *Store) defaultID(ctx context.Context, ws, provider string) (string, error) {
	item, err := s.getWS(ctx, ws, credDefPrefix+provider)
	if err != nil {
		return "", err
	}
	v, _ := item[attrCredentialID].(*types.AttributeValueMemberS)
	if v == nil {
		return "", nil
	}
	return v.Value, nil
}

// queryPrefix returns every item of the workspace whose sort key starts with prefix, in key order.
func (s *Store) queryPrefix(ctx context.Context, ws, prefix string) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(wsPK(ws)), ":prefix": str(prefix)},
		ConsistentRead:            aws.Bool(true),
	}
	for p := dynamodb.NewQueryPaginator(s.client, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamo: query %s: %w", prefix, err)
		}
		items = append(items, out.Items...)
	}
	return items, nil
}

// ListCredentials reads the workspace's credentials and default pointers in one query.
func (s *Store) ListCredentials(ctx context.Context, ws string) ([]*mediatrail.Credential, error) {
	if !mediatrail.ValidRef(ws) {
		return nil, nil
	}
	items, err := s.queryPrefix(ctx, ws, "CRED")
	if err != nil {
		return nil, err
	}
	defaults := map[string]string{}
	var out []*mediatrail.Credential
	for _, item := range items {
		sk, _ := item[attrSK].(*types.AttributeValueMemberS)
		switch {
		case sk != nil && strings.HasPrefix(sk.Value, credDefPrefix):
			if v, ok := item[attrCredentialID].(*types.AttributeValueMemberS); ok {
				defaults[strings.TrimPrefix(sk.Value, credDefPrefix)] = v.Value
			}
		case sk != nil && strings.HasPrefix(sk.Value, credPrefix):
			c, err := unmarshalCredential(item)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	for _, c := range out {
		c.IsDefault = defaults[c.Provider] == c.ID
	}
	return out, nil
}

// UpdateCredential replaces the credential on condition that it exists.
func (s *Store) UpdateCredential(ctx context.Context, c *mediatrail.Credential) error {
	item, err := marshalCredential(c)
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": attrPK}})
	if _, failed := conditionFailed(err, 0); failed {
		return errCredentialNotFound()
	}
	if err != nil {
		return fmt.Errorf("dynamo: update credential %s: %w", c.ID, err)
	}
	return nil
}

// DeleteCredential removes the credential and, in the same transaction, the
// default pointer when it names it.
func (s *Store) DeleteCredential(ctx context.Context, ws, id string) error {
	c, err := s.FindCredential(ctx, ws, id)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Delete: &types.Delete{TableName: aws.String(s.table), Key: itemKey(ws, credPrefix+id),
		ConditionExpression: aws.String("attribute_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": attrPK}}}}
	if c.IsDefault {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: itemKey(ws, credDefPrefix+c.Provider),
			ConditionExpression:       aws.String("#cred = :id"),
			ExpressionAttributeNames:  map[string]string{"#cred": attrCredentialID},
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(id)}}})
	}
	err = s.transact(ctx, items)
	if _, failed := conditionFailed(err, 0); failed {
		return errCredentialNotFound()
	}
	if _, failed := conditionFailed(err, 1); failed {
		return mediatrail.Errorf(mediatrail.ECONFLICT, "the provider's default credential changed meanwhile; try again")
	}
	if err != nil {
		return fmt.Errorf("dynamo: delete credential %s: %w", id, err)
	}
	return nil
}

// SetDefaultCredential points the provider's default at id, on condition
// (in the same transaction) that the credential exists.
func (s *Store) SetDefaultCredential(ctx context.Context, ws, provider, id string) error {
	if !mediatrail.ValidRef(ws) || !mediatrail.ValidID(id) {
		return errCredentialNotFound()
	}
	err := s.transact(ctx, []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table), Key: itemKey(ws, credPrefix+id),
			ConditionExpression: aws.String("attribute_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": attrPK}}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: map[string]types.AttributeValue{
			attrPK: str(wsPK(ws)), attrSK: str(credDefPrefix + provider), attrCredentialID: str(id)}}},
	})
	if _, failed := conditionFailed(err, 0); failed {
		return errCredentialNotFound()
	}
	if err != nil {
		return fmt.Errorf("dynamo: set default credential: %w", err)
	}
	return nil
}

// DefaultCredential follows the provider's default pointer.
func (s *Store) DefaultCredential(ctx context.Context, ws, provider string) (*mediatrail.Credential, error) {
	if !mediatrail.ValidRef(ws) {
		return nil, nil
	}
	id, err := s.defaultID(ctx, ws, provider)
	if err != nil || !mediatrail.ValidID(id) {
		return nil, err
	}
	// The pointer was just read: the credential is the default, so
	// FindCredential's second read of it is not needed.
	item, err := s.getWS(ctx, ws, credPrefix+id)
	if err != nil || item == nil {
		return nil, err
	}
	c, err := unmarshalCredential(item)
	if err != nil {
		return nil, err
	}
	c.IsDefault = true
	return c, nil
}

// TouchCredential sets last_used_at and, with valid, is_valid (and
// checked_at when checked), on condition that the credential exists.
func (s *Store) TouchCredential(ctx context.Context, ws, id string, at time.Time, valid *bool, checked bool) error {
	if !mediatrail.ValidRef(ws) || !mediatrail.ValidID(id) {
		return nil
	}
	set := []string{"#used = :at"}
	names := map[string]string{"#pk": attrPK, "#used": "last_used_at"}
	values := map[string]types.AttributeValue{":at": str(at.UTC().Format(time.RFC3339Nano))}
	if valid != nil {
		set = append(set, "#valid = :valid")
		names["#valid"], values[":valid"] = "is_valid", &types.AttributeValueMemberBOOL{Value: *valid}
	}
	if checked {
		set = append(set, "#checked = :at")
		names["#checked"] = "checked_at"
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: itemKey(ws, credPrefix+id),
		UpdateExpression:          aws.String("SET " + strings.Join(set, ", ")),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if _, failed := conditionFailed(err, 0); failed {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamo: touch credential %s: %w", id, err)
	}
	return nil
}

func marshalTool(t *mediatrail.MediaTool) (map[string]types.AttributeValue, error) {
	if !mediatrail.ValidRef(t.WorkspaceID) || !mediatrail.ValidID(t.ID) {
		return nil, mediatrail.Invalid("tool", "a media tool needs a valid workspace and a KSUID")
	}
	item, err := attributevalue.MarshalMapWithOptions(t, spanCodec)
	if err != nil {
		return nil, fmt.Errorf("dynamo: marshal media tool %s: %w", t.ID, err)
	}
	item[attrPK], item[attrSK] = str(wsPK(t.WorkspaceID)), str(toolPrefix+t.ID)
	return item, nil
}

func unmarshalTool(item map[string]types.AttributeValue) (*mediatrail.MediaTool, error) {
	t := &mediatrail.MediaTool{}
	if err := attributevalue.UnmarshalMapWithOptions(item, t, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" }); err != nil {
		return nil, fmt.Errorf("dynamo: decode media tool: %w", err)
	}
	return t, nil
}

// PutTool creates (the id must be free) or replaces (it must exist) a tool.
func (s *Store) PutTool(ctx context.Context, t *mediatrail.MediaTool, create bool) error {
	item, err := marshalTool(t)
	if err != nil {
		return err
	}
	cond := "attribute_exists(#pk)"
	if create {
		cond = "attribute_not_exists(#pk)"
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: map[string]string{"#pk": attrPK}})
	if _, failed := conditionFailed(err, 0); failed {
		if create {
			return mediatrail.Errorf(mediatrail.ECONFLICT, "media tool %s already exists", t.ID)
		}
		return errToolNotFound()
	}
	if err != nil {
		return fmt.Errorf("dynamo: put media tool %s: %w", t.ID, err)
	}
	return nil
}

// FindTool reads a tool.
func (s *Store) FindTool(ctx context.Context, ws, id string) (*mediatrail.MediaTool, error) {
	if !mediatrail.ValidRef(ws) || !mediatrail.ValidID(id) {
		return nil, errToolNotFound()
	}
	item, err := s.getWS(ctx, ws, toolPrefix+id)
	if err != nil || item == nil {
		return nil, cmp.Or(err, errToolNotFound())
	}
	return unmarshalTool(item)
}

// ListTools reads the workspace's tools, oldest first.
func (s *Store) ListTools(ctx context.Context, ws string) ([]*mediatrail.MediaTool, error) {
	if !mediatrail.ValidRef(ws) {
		return nil, nil
	}
	items, err := s.queryPrefix(ctx, ws, toolPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]*mediatrail.MediaTool, 0, len(items))
	for _, item := range items {
		t, err := unmarshalTool(item)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// DeleteTool removes a tool on condition that it exists.
func (s *Store) DeleteTool(ctx context.Context, ws, id string) error {
	if !mediatrail.ValidRef(ws) || !mediatrail.ValidID(id) {
		return errToolNotFound()
	}
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: itemKey(ws, toolPrefix+id),
		ConditionExpression: aws.String("attribute_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": attrPK}})
	if _, failed := conditionFailed(err, 0); failed {
		return errToolNotFound()
	}
	if err != nil {
		return fmt.Errorf("dynamo: delete media tool %s: %w", id, err)
	}
	return nil
}

// AgentToolIDs reads the ids attached to an agent.
func (s *Store) AgentToolIDs(ctx context.Context, ws, agentID string) ([]string, error) {
	if !mediatrail.ValidRef(ws) || !mediatrail.ValidRef(agentID) {
		return nil, nil
	}
	item, err := s.getWS(ctx, ws, agentToolsPrefix+agentID)
	if err != nil {
		return nil, err
	}
	var ids []string
	if l, ok := item[attrToolIDs].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if s, ok := v.(*types.AttributeValueMemberS); ok {
				ids = append(ids, s.Value)
			}
		}
	}
	return ids, nil
}

// SetAgentToolIDs replaces the agent's set; an empty set deletes the item.
func (s *Store) SetAgentToolIDs(ctx context.Context, ws, agentID string, ids []string, at time.Time) error {
	if !mediatrail.ValidRef(ws) || !mediatrail.ValidRef(agentID) {
		return mediatrail.Invalid("agent_id", "agent_id is not a valid reference")
	}
	var err error
	if len(ids) == 0 {
		_, err = s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: itemKey(ws, agentToolsPrefix+agentID)})
	} else {
		list := make([]types.AttributeValue, 0, len(ids))
		for _, id := range ids {
			list = append(list, str(id))
		}
		item := itemKey(ws, agentToolsPrefix+agentID)
		item[attrToolIDs], item[attrUpdatedAt] = &types.AttributeValueMemberL{Value: list}, str(formatTime(at))
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	}
	if err != nil {
		return fmt.Errorf("dynamo: set agent tools: %w", err)
	}
	return nil
}
