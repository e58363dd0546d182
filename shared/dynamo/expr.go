package dynamo

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wemember/wemember/shared/store"
)

// exprs collects the placeholders of one request's expressions; DynamoDB
// refuses placeholders that no expression uses, so each is registered only
// when an expression is built with it.
type exprs struct {
	names  map[string]string
	values map[string]types.AttributeValue
	now    int64 // Epoch seconds: an item with ttl <= now has expired.
}

func newExprs(now int64) *exprs {
	return &exprs{names: map[string]string{}, values: map[string]types.AttributeValue{}, now: now}
}

// n returns the placeholder of an attribute name.
func (e *exprs) n(attr string) string {
	e.names["#"+attr] = attr
	return "#" + attr
}

// v returns the placeholder of a value.
func (e *exprs) v(name string, av types.AttributeValue) string {
	e.values[":"+name] = av
	return ":" + name
}

// namesOrNil and valuesOrNil: DynamoDB refuses empty maps too.
func (e *exprs) namesOrNil() map[string]string {
	if len(e.names) == 0 {
		return nil
	}
	return e.names
}

func (e *exprs) valuesOrNil() map[string]types.AttributeValue {
	if len(e.values) == 0 {
		return nil
	}
	return e.values
}

// notExpired holds for an absent item and for a live one.
func (e *exprs) notExpired() string {
	ttl := e.n(attrTTL)
	return fmt.Sprintf("(attribute_not_exists(%s) OR %s > %s)", ttl, ttl, e.v("now", num(e.now)))
}

// absentOrExpired is the store's IfAbsent.
func (e *exprs) absentOrExpired() string {
	return fmt.Sprintf("(attribute_not_exists(%s) OR %s <= %s)", e.n(attrPK), e.n(attrTTL), e.v("now", num(e.now)))
}

// live is the store's IfExists.
func (e *exprs) live() string {
	return fmt.Sprintf("(attribute_exists(%s) AND %s)", e.n(attrPK), e.notExpired())
}

// version is the store's IfVersion.
func (e *exprs) version(v int64) string {
	return fmt.Sprintf("(%s = %s AND %s)", e.n(attrVer), e.v("v", num(v)), e.notExpired())
}

// never is a condition that no item meets.
func (e *exprs) never() string {
	pk := e.n(attrPK)
	return fmt.Sprintf("(attribute_exists(%s) AND attribute_not_exists(%s))", pk, pk)
}

// bounds is an Add's AtMost/AtLeast, on the counter before the add, or ""
// when the Add is unbounded. It fails on an absent item.
func (e *exprs) bounds(m store.Mutation) string {
	var parts []string
	if m.HasMax {
		parts = append(parts, fmt.Sprintf("%s <= %s", e.n(attrN), e.v("hi", num(m.Max-m.Delta))))
	}
	if m.HasMin {
		parts = append(parts, fmt.Sprintf("%s >= %s", e.n(attrN), e.v("lo", num(m.Min-m.Delta))))
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

// and joins conditions, skipping empty ones.
func and(conds ...string) string {
	var parts []string
	for _, c := range conds {
		if c != "" {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, " AND ")
}

// inBounds reports whether counter n satisfies an Add's bounds after it.
func inBounds(m store.Mutation, n int64) bool {
	n += m.Delta
	return (!m.HasMax || n <= m.Max) && (!m.HasMin || n >= m.Min)
}

// compile turns a mutation into one transaction action, or nil for a Check
// without a condition. fresh says the item is believed absent or expired:
// then Put and Add replace it whole, as a new item at version 1, instead of
// updating it in place (an update would carry the dead item's version and
// counter over). Write learns fresh from the items a failed condition
// returns.
func compile(table string, m store.Mutation, fresh bool, now int64) *types.TransactWriteItem {
	e := newExprs(now)
	k := key(m.Key)
	all := types.ReturnValuesOnConditionCheckFailureAllOld
	switch m.Op {
	case store.OpCheck:
		var cond string
		switch m.Cond {
		case store.Always:
			return nil
		case store.IfAbsent:
			cond = e.absentOrExpired()
		case store.IfExists:
			cond = e.live()
		case store.IfVersion:
			cond = e.version(m.Version)
		}
		return &types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: &table, Key: k, ConditionExpression: &cond,
			ExpressionAttributeNames: e.namesOrNil(), ExpressionAttributeValues: e.valuesOrNil(),
			ReturnValuesOnConditionCheckFailure: all,
		}}

	case store.OpDelete:
		var cond *string
		switch m.Cond {
		case store.IfAbsent:
			cond = aws.String(e.absentOrExpired())
		case store.IfExists:
			cond = aws.String(e.live())
		case store.IfVersion:
			cond = aws.String(e.version(m.Version))
		}
		return &types.TransactWriteItem{Delete: &types.Delete{
			TableName: &table, Key: k, ConditionExpression: cond,
			ExpressionAttributeNames: e.namesOrNil(), ExpressionAttributeValues: e.valuesOrNil(),
			ReturnValuesOnConditionCheckFailure: all,
		}}
	}

	// Put and Add: a whole new item when the item must be (or is believed)
	// absent, an in-place update otherwise.
	if m.Cond == store.IfAbsent || (m.Cond == store.Always && fresh) {
		item := key(m.Key)
		item[attrVer] = num(1)
		cond := e.absentOrExpired()
		if m.Op == store.OpAdd {
			item[attrN] = num(m.Delta)
			if !inBounds(m, 0) {
				cond = e.never()
			}
		} else {
			item[attrN] = num(0)
			if len(m.Data) > 0 {
				item[attrD] = &types.AttributeValueMemberB{Value: m.Data}
			}
		}
		if !m.Expires.IsZero() {
			item[attrTTL] = num(m.Expires.Unix())
		}
		return &types.TransactWriteItem{Put: &types.Put{
			TableName: &table, Item: item, ConditionExpression: &cond,
			ExpressionAttributeNames: e.namesOrNil(), ExpressionAttributeValues: e.valuesOrNil(),
			ReturnValuesOnConditionCheckFailure: all,
		}}
	}

	var cond string
	switch m.Cond {
	case store.Always:
		cond = e.notExpired()
		if m.Op != store.OpAdd {
			break
		}
		if b := e.bounds(m); b != "" {
			// An absent item counts from 0; a live one must keep in bounds.
			cond = "(" + and(e.live(), b) + ")"
			if inBounds(m, 0) {
				cond = fmt.Sprintf("(attribute_not_exists(%s) OR %s)", e.n(attrPK), cond)
			}
		}
	case store.IfExists:
		cond = e.live()
	case store.IfVersion:
		cond = e.version(m.Version)
	}
	var update string
	if m.Op == store.OpAdd {
		if m.Cond != store.Always {
			cond = and(cond, e.bounds(m))
		}
		update = fmt.Sprintf("ADD %s %s, %s %s", e.n(attrN), e.v("delta", num(m.Delta)), e.n(attrVer), e.v("one", num(1)))
		if !m.Expires.IsZero() { // Otherwise the expiry is kept.
			update = fmt.Sprintf("SET %s = %s ", e.n(attrTTL), e.v("ttl", num(m.Expires.Unix()))) + update
		}
	} else {
		sets := []string{fmt.Sprintf("%s = if_not_exists(%s, %s)", e.n(attrN), e.n(attrN), e.v("zero", num(0)))}
		var removes []string
		if len(m.Data) > 0 {
			sets = append(sets, fmt.Sprintf("%s = %s", e.n(attrD), e.v("d", &types.AttributeValueMemberB{Value: m.Data})))
		} else {
			removes = append(removes, e.n(attrD))
		}
		if !m.Expires.IsZero() {
			sets = append(sets, fmt.Sprintf("%s = %s", e.n(attrTTL), e.v("ttl", num(m.Expires.Unix()))))
		} else {
			removes = append(removes, e.n(attrTTL))
		}
		update = "SET " + strings.Join(sets, ", ")
		if len(removes) > 0 {
			update += " REMOVE " + strings.Join(removes, ", ")
		}
		update += fmt.Sprintf(" ADD %s %s", e.n(attrVer), e.v("one", num(1)))
	}
	return &types.TransactWriteItem{Update: &types.Update{
		TableName: &table, Key: k, UpdateExpression: &update, ConditionExpression: &cond,
		ExpressionAttributeNames: e.namesOrNil(), ExpressionAttributeValues: e.valuesOrNil(),
		ReturnValuesOnConditionCheckFailure: all,
	}}
}
