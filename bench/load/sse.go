package main

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
)

// event is one block of a server-sent event stream, parsed as the WHATWG processing model (an
// EventSource) parses it: the fields up to a blank line. Data holds the data lines joined by
// "\n", valid until the next read.
type event struct {
	Type  string // the event field, "" if none
	ID    string // the last event ID: this block's id field, or the one before it
	HasID bool   // this block had an id field
	Data  []byte
	Lines int   // data lines; an EventSource dispatches only a block with at least one
	Retry int64 // this block's retry field (ms), -1 if none
}

// events reads a stream's blocks one after the other.
type events struct {
	r        *bufio.Reader
	long     []byte // a line longer than the buffer, put together
	ev       event
	Comments int64 // comment lines (": heartbeat")
}

// newEvents reads the body of an event stream; lastID is the last event ID so far (of an earlier
// connection: an EventSource keeps it across reconnects).
func newEvents(body io.Reader, lastID string) *events {
	return &events{r: bufio.NewReaderSize(body, 4096), ev: event{ID: lastID}}
}

// line is the next line without its end (LF or CRLF), valid until the next read.
func (s *events) line() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.long = append(s.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = s.r.ReadSlice('\n')
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// next reads up to the end of the next block that has a field (a block of comments only is
// none); at the end of the stream, the error.
func (s *events) next() (*event, error) {
	ev := &s.ev
	ev.Type, ev.HasID, ev.Data, ev.Lines, ev.Retry = "", false, ev.Data[:0], 0, -1
	fields := false
	for {
		line, err := s.line()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			if fields {
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			s.Comments++
			continue
		}
		fields = true
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], bytes.TrimPrefix(line[i+1:], []byte(" "))
		}
		switch string(name) {
		case "event":
			ev.Type = typeOf(value)
		case "data":
			if ev.Lines > 0 {
				ev.Data = append(ev.Data, '\n')
			}
			ev.Data = append(ev.Data, value...)
			ev.Lines++
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				ev.ID, ev.HasID = string(value), true
			}
		case "retry":
			if retry, err := strconv.ParseInt(string(value), 10, 64); err == nil && digits(value) {
				ev.Retry = retry
			}
		}
	}
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// typeOf is the event type named by b, without a new string for the service's own types.
func typeOf(b []byte) string {
	for _, known := range [...]string{"value", "shutdown", "busy"} {
		if string(b) == known {
			return known
		}
	}
	return string(b)
}
