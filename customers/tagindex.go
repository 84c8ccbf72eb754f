package customers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"customerservice/db"
)

// The filter by tags under row-level security (migration 20261230000001,
// docs/decisions-reads.md).

// tagCondition is a tagsAny (all false) or tagsAll condition: its tags, each with its
// length (a key that tells ["a,b"] from ["a", "b"] and [] from [""]).
type tagCondition struct {
	tags string
	all  bool
}

func tagConditionOf(tags []string, all bool) tagCondition {
	var b strings.Builder
	for _, t := range tags {
		fmt.Fprintf(&b, "%d:%s", len(t), t)
	}
	return tagCondition{tags: b.String(), all: all}
}

// tagFilter is one tag condition of a filter with its tags.
type tagFilter struct {
	tags []string
	all  bool
}

// tagFilters are the tag conditions of f and of the filters it is combined with (And).
func (f *Filter) tagFilters() []tagFilter {
	var out []tagFilter
	for g := f; g != nil; g = g.And {
		if g.TagsAny != nil {
			out = append(out, tagFilter{g.TagsAny, false})
		}
		if g.TagsAll != nil {
			out = append(out, tagFilter{g.TagsAll, true})
		}
	}
	return out
}

// tagsSQL is the condition that c carries any (all false) or all of tags. `tags && $1` and
// `tags @> $1` are not leakproof, so under row-level security PostgreSQL never serves them
// with the tags' GIN index; a condition IndexTags found few customers for also names the
// customers customer_tag_ids() finds through the index (for the caller's organization only,
// like customer_search_ids), and the plain condition, kept, checks them under RLS. A condition
// most customers match stays plain: the newest-first scan finds a page of them at once.
func tagsSQL(tags []string, all bool, indexed map[tagCondition]bool, args *db.Args) string {
	p := args.Add(tags) + "::varchar[]"
	op, allSQL := "&&", "false"
	if all {
		op, allSQL = "@>", "true"
	}
	cond := "c.tags " + op + " " + p
	if indexed[tagConditionOf(tags, all)] {
		// As an array (one InitPlan), an index condition on the primary key: the rows the
		// function names are read by key, whatever the planner guesses of the tags.
		cond = "(" + cond + " AND c.customer_id = ANY (ARRAY(SELECT customer_tag_ids(" + p + ", " + allSQL + "))))"
	}
	return cond
}

// IndexTags decides which tag conditions of f go through the tags index, asking the database
// (customer_tags_indexed: the column's statistic says how many customers have the tags) in
// one round trip before the filter's statements are built, unless the answers were kept
// (decisions); a filter without tags asks nothing. The decision only chooses the plan: the
// customers matched are the same either way.
func IndexTags(ctx context.Context, h *db.Handle, org uuid.UUID, f *Filter) error {
	conds := f.tagFilters()
	if len(conds) == 0 {
		return nil
	}
	indexed := make(map[tagCondition]bool, len(conds))
	if decisions.kept(h, org, conds, indexed, time.Now()) {
		f.indexed = indexed
		return nil
	}
	var args db.Args
	cols := make([]string, len(conds))
	for i, c := range conds {
		all := "false"
		if c.all {
			all = "true"
		}
		cols[i] = "customer_tags_indexed(" + args.Add(c.tags) + "::varchar[], " + all + ")::text"
	}
	err := db.ReadInOrg(ctx, h, org, db.Stmt{SQL: "SELECT " + strings.Join(cols, ", "), Args: args.Values(), Row: func(values [][]byte) error {
		for i, v := range values {
			indexed[tagConditionOf(conds[i].tags, conds[i].all)] = string(v) == "true"
		}
		return nil
	}})
	if err != nil {
		return fmt.Errorf("index tags: %w", err)
	}
	decisions.keep(h, org, indexed, time.Now())
	f.indexed = indexed
	return nil
}

// decisions are IndexTags's answers, kept a minute per database handle, organization and
// condition, so that a dashboard repeating its filter pays the list's one round trip, not
// two. The statistic they come from changes only when the table is analyzed; a minute
// late, an answer costs time, never a different result. Kept per organization: a request
// that finds an answer kept cannot tell that another organization asked the same.
var decisions = &tagDecisions{m: map[tagDecisionKey]tagDecision{}}

const (
	tagDecisionTTL      = time.Minute
	maxTagDecisionBytes = 4 << 20 // about the bytes of the keys kept; past it the expired go, or all
	maxTagKeptKey       = 4 << 10 // a condition with longer tags is not kept
)

type tagDecisionKey struct {
	h    *db.Handle
	org  uuid.UUID
	cond tagCondition
}

type tagDecision struct {
	indexed bool
	until   time.Time
}

type tagDecisions struct {
	mu    sync.Mutex
	m     map[tagDecisionKey]tagDecision
	bytes int
}

// kept fills indexed with the answers kept for every condition, reporting whether there
// was one for each.
func (d *tagDecisions) kept(h *db.Handle, org uuid.UUID, conds []tagFilter, indexed map[tagCondition]bool, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range conds {
		cond := tagConditionOf(c.tags, c.all)
		k, ok := d.m[tagDecisionKey{h, org, cond}]
		if !ok || now.After(k.until) {
			return false
		}
		indexed[cond] = k.indexed
	}
	return true
}

func (d *tagDecisions) keep(h *db.Handle, org uuid.UUID, indexed map[tagCondition]bool, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for cond, v := range indexed {
		if len(cond.tags) > maxTagKeptKey {
			continue
		}
		key := tagDecisionKey{h, org, cond}
		if _, ok := d.m[key]; !ok {
			if d.bytes+len(cond.tags)+64 > maxTagDecisionBytes {
				d.forget(now)
			}
			d.bytes += len(cond.tags) + 64
		}
		d.m[key] = tagDecision{indexed: v, until: now.Add(tagDecisionTTL)}
	}
}

// forget drops the expired answers, or every answer when none has expired: one
// organization's many filters then cost every organization a round trip, never memory.
func (d *tagDecisions) forget(now time.Time) {
	for k, v := range d.m {
		if now.After(v.until) {
			delete(d.m, k)
			d.bytes -= len(k.cond.tags) + 64
		}
	}
	if d.bytes+maxTagKeptKey+64 > maxTagDecisionBytes {
		clear(d.m)
		d.bytes = 0
	}
}
