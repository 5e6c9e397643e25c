package main

import (
	"bytes"
	"strconv"
	"time"
)

// checks is what the value events of one stream must satisfy: event ids strictly increasing
// (IDViolations must be 0) and no value missing between consecutive indexes (Gaps, Missing).
type checks struct {
	lastID       int64 // -1 before the first id
	lastIndex    int64
	Values       int64 `json:"values"`
	IDViolations int64 `json:"id_violations"`
	Gaps         int64 `json:"gaps"`           // times a value was missing between two consecutive value events
	Missing      int64 `json:"missing_values"` // how many values were missing in all
}

func newChecks() checks {
	return checks{lastID: -1}
}

// value checks one value event against the ones before it.
func (c *checks) value(ev *event) {
	c.Values++
	if ev.HasID {
		id, _ := strconv.ParseInt(ev.ID, 10, 64)
		if c.lastID >= 0 && id <= c.lastID {
			c.IDViolations++
		}
		c.lastID = id
	}
	if index, err := strconv.ParseInt(string(bytes.TrimSpace(field(ev.Data, `"index":`, ",}"))), 10, 64); err == nil {
		if c.lastIndex > 0 && index > c.lastIndex+1 {
			c.Gaps++
			c.Missing += index - c.lastIndex - 1
		}
		c.lastIndex = index
	}
}

// add counts another stream's figures in.
func (c *checks) add(other *checks) {
	c.Values += other.Values
	c.IDViolations += other.IDViolations
	c.Gaps += other.Gaps
	c.Missing += other.Missing
}

// field is what follows key in a value's JSON up to the first of the bytes of end; nil if either
// is missing.
func field(data []byte, key, end string) []byte {
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return nil
	}
	rest := data[i+len(key):]
	j := bytes.IndexAny(rest, end)
	if j <= 0 {
		return nil
	}
	return rest[:j]
}

// emittedAt is the value's emittedAt; false if it has none that parses.
func emittedAt(data []byte) (time.Time, bool) {
	text := field(data, `"emittedAt":"`, `"`)
	if text == nil {
		return time.Time{}, false
	}
	at, err := time.Parse(time.RFC3339Nano, string(text))
	return at, err == nil
}
