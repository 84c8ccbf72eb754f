package customer360

import (
	"strings"

	"customerservice/paging"
)

// list is a nested list of the 360 read newest first (transactions, purchases, usages,
// payments): a Relay connection of its rows, paged by keyset cursors of paging's wire format.
type list struct {
	node  *objectType
	alias string // of the rows
	// cols is the select list of a row; from the FROM and WHERE of the rows of the parent row
	// ({row} stands for the parent's alias): "table AS alias WHERE <the parent's key>".
	cols, from string
	filter     func(c *compiler, f Field) string // the argument filter's condition, "" none
	key        string                            // the sort key (a timestamptz column) and…
	id         string                            // …the row's id, both DESC, as the index has them
	order      string                            // the order's name in cursors
	// rows, when set, writes the page's rows (at most limit, past after) and their count
	// itself, instead of cols, from, filter (the timeline's union of sources); key and id
	// then name its columns.
	rows func(c *compiler, row string, f Field, after *paging.Cursor, limit string) (rows, count string)
}

// connection compiles a connection field: edges, nodes, pageInfo and totalCount as
// aggregates over one page of rows read first+1 at a time (one row of output even when the
// page is empty). The cursor of a row is paging.Cursor{Order, Key: its key in RFC 3339, ID}.
func (l *list) connection() fieldSQL {
	return func(c *compiler, row string, f Field) string {
		page, err := paging.NewPage(intArg(f, "first"), stringArg(f, "after"), l.order, validTime)
		if err != nil {
			return c.argFail(err)
		}
		first := c.args.Add(page.First) + "::int"
		var rows, count string
		if l.rows != nil {
			rows, count = l.rows(c, row, f, page.After, "("+first+" + 1)")
		} else {
			where := []string{}
			if l.filter != nil {
				if cond := l.filter(c, f); cond != "" {
					where = append(where, cond)
				}
			}
			from := strings.ReplaceAll(l.from, "{row}", row)
			count = "(SELECT count(*) FROM " + from + and(where) + ")"
			if page.After != nil {
				where = append(where, paging.Keyset(l.key, l.id, "<", "timestamptz", *page.After, c.args))
			}
			rows = "SELECT " + l.cols + " FROM " + from + and(where) +
				" ORDER BY " + l.key + " DESC, " + l.id + " DESC LIMIT " + first + " + 1"
		}

		a := l.alias
		inPage := " FILTER (WHERE " + a + ".rn <= " + first + ")"
		byRN := " ORDER BY " + a + ".rn"
		keyCol := a + "." + l.key[strings.Index(l.key, ".")+1:]
		idCol := a + "." + l.id[strings.Index(l.id, ".")+1:]
		cursor := base64URL(`'{"o":"` + l.order + `","k":"' || ` + dateTime(keyCol) + ` || '","id":"' || ` + idCol + ` || '"}'`)
		edge := &objectType{name: l.node.name + "Edge", fields: map[string]fieldSQL{
			"cursor": func(*compiler, string, Field) string { return cursor },
			"node":   func(c *compiler, _ string, f Field) string { return c.object(l.node, a, f.Selection) },
		}}
		pageInfo := &objectType{name: "PageInfo", fields: map[string]fieldSQL{
			"hasNextPage":     func(*compiler, string, Field) string { return "count(*) > " + first },
			"hasPreviousPage": func(*compiler, string, Field) string { return boolSQL(page.After != nil) },
			"startCursor":     func(*compiler, string, Field) string { return "(array_agg(" + cursor + byRN + ")" + inPage + ")[1]" },
			"endCursor": func(*compiler, string, Field) string {
				return "(array_agg(" + cursor + byRN + " DESC)" + inPage + ")[1]"
			},
		}}
		conn := &objectType{name: l.node.name + "Connection", fields: map[string]fieldSQL{
			"nodes": func(c *compiler, _ string, f Field) string {
				return "COALESCE(json_agg(" + c.object(l.node, a, f.Selection) + byRN + ")" + inPage + ", '[]')"
			},
			"edges": func(c *compiler, _ string, f Field) string {
				return "COALESCE(json_agg(" + c.object(edge, a, f.Selection) + byRN + ")" + inPage + ", '[]')"
			},
			"pageInfo":   func(c *compiler, _ string, f Field) string { return c.object(pageInfo, a, f.Selection) },
			"totalCount": func(*compiler, string, Field) string { return count },
		}}
		return "(SELECT " + c.object(conn, a, f.Selection) + " FROM (SELECT " + a + ".*, row_number() OVER (ORDER BY " +
			keyCol + " DESC, " + idCol + " DESC) AS rn FROM (" + rows + ") AS " + a + ") AS " + a + " GROUP BY ())"
	}
}

// and is " AND cond…" of the conditions, or "".
func and(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " AND " + strings.Join(conds, " AND ")
}

func boolSQL(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// base64URL is base64url without padding of the UTF-8 of a text expression, as Go's
// base64.RawURLEncoding (PostgreSQL's encoder also breaks lines every 76 characters).
func base64URL(text string) string {
	return "translate(encode(convert_to(" + text + ", 'UTF8'), 'base64'), E'+/=\\n', '-_')"
}
