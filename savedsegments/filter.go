package savedsegments

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"customerservice/customers"
	"customerservice/models"
)

// The stored filter: a JSON document with its version, never SQL. Version 1 holds the
// filter in the shape of the API's CustomerFilter input (enum values upper-case), so the
// API answers it as it is and a client can send it back as a filter; a later change of
// CustomerFilter adds a version and a reader of the older ones here.

// Version is the version of the documents this code writes.
const Version = 1

// Document is a saved segment's stored filter.
type Document struct {
	Version int      `json:"version"`
	Filter  FilterV1 `json:"filter"`
	Search  *string  `json:"search,omitempty"`
}

// FilterV1 is CustomerFilter as of version 1. A nil list is no condition; an empty one
// matches nothing, as in the live filter.
type FilterV1 struct {
	Status           *[]string `json:"status,omitempty"`
	CustomerType     *[]string `json:"customerType,omitempty"`
	Tier             *[]string `json:"tier,omitempty"`
	Segment          *[]string `json:"segment,omitempty"`
	IsVip            *bool     `json:"isVip,omitempty"`
	IsAtRisk         *bool     `json:"isAtRisk,omitempty"`
	Tags             *TagsV1   `json:"tags,omitempty"`
	HasCreditAccount *bool     `json:"hasCreditAccount,omitempty"`
	CreatedAt        *RangeV1  `json:"createdAt,omitempty"`
	LastPurchaseAt   *RangeV1  `json:"lastPurchaseAt,omitempty"`
	// Consent came with consents (§11) after version 1 was first written: a document
	// without it has no consent condition, so version 1 still reads every stored document.
	Consent *string `json:"consent,omitempty"`
}

// TagsV1 is TagFilter.
type TagsV1 struct {
	Any *[]string `json:"any,omitempty"`
	All *[]string `json:"all,omitempty"`
}

// RangeV1 is DateTimeRange.
type RangeV1 struct {
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
}

// document is the stored form of a live filter.
func document(f customers.Filter) Document {
	d := Document{Version: Version, Filter: FilterV1{
		Status: upper(f.Statuses), CustomerType: upper(f.Types), Tier: upper(f.Tiers), Segment: upper(f.Segments),
		IsVip: f.IsVip, IsAtRisk: f.IsAtRisk, HasCreditAccount: f.HasCreditAccount,
		CreatedAt: rangeV1(f.CreatedAt), LastPurchaseAt: rangeV1(f.LastPurchaseAt),
	}}
	if f.Consent != nil {
		c := strings.ToUpper(string(*f.Consent))
		d.Filter.Consent = &c
	}
	if f.TagsAny != nil || f.TagsAll != nil {
		d.Filter.Tags = &TagsV1{Any: list(f.TagsAny), All: list(f.TagsAll)}
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		d.Search = &s
	}
	return d
}

// decode reads a stored document as the live filter it means. Values that no longer exist
// (a tier or segment dropped, a tag no one has) stay in it and match nothing: a saved
// segment always evaluates.
func decode(raw []byte) (*Document, customers.Filter, error) {
	var d Document
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, customers.Filter{}, fmt.Errorf("saved segment filter: %w", err)
	}
	if d.Version != 1 {
		return nil, customers.Filter{}, fmt.Errorf("saved segment filter: version %d is unknown", d.Version)
	}
	f := d.Filter
	out := customers.Filter{
		Statuses: lower[models.CustomerStatus](f.Status), Types: lower[models.CustomerType](f.CustomerType),
		Tiers: lower[models.Tier](f.Tier), Segments: lower[models.SegmentCode](f.Segment),
		IsVip: f.IsVip, IsAtRisk: f.IsAtRisk, HasCreditAccount: f.HasCreditAccount,
		CreatedAt: f.CreatedAt.live(), LastPurchaseAt: f.LastPurchaseAt.live(),
	}
	if f.Consent != nil {
		c := models.ConsentPurpose(strings.ToLower(*f.Consent))
		out.Consent = &c
	}
	if f.Tags != nil {
		out.TagsAny, out.TagsAll = deref(f.Tags.Any), deref(f.Tags.All)
	}
	if d.Search != nil {
		out.Search = *d.Search
	}
	return &d, out, nil
}

func upper[T ~string](vs []T) *[]string {
	if vs == nil {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.ToUpper(string(v))
	}
	return &out
}

func lower[T ~string](vs *[]string) []T {
	if vs == nil {
		return nil
	}
	out := make([]T, len(*vs))
	for i, v := range *vs {
		out[i] = T(strings.ToLower(v))
	}
	return out
}

func list(vs []string) *[]string {
	if vs == nil {
		return nil
	}
	return &vs
}

func deref(vs *[]string) []string {
	if vs == nil {
		return nil
	}
	return append([]string{}, *vs...)
}

func rangeV1(r customers.TimeRange) *RangeV1 {
	if r.From == nil && r.To == nil {
		return nil
	}
	return &RangeV1{From: r.From, To: r.To}
}

func (r *RangeV1) live() customers.TimeRange {
	if r == nil {
		return customers.TimeRange{}
	}
	return customers.TimeRange{From: r.From, To: r.To}
}
