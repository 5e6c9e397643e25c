package main

import (
	"io"
	"strings"
	"testing"
)

// The blocks of a stream as the service writes them, with the WHATWG model's corners: a comment,
// CRLF line ends, a field without a space or without a colon, an id kept across blocks, a retry
// that is not a number, a block of an id alone.
func TestEventsParsesBlocksAsAnEventSource(t *testing.T) {
	stream := ": heartbeat\n\n" +
		"event: value\nid: 7\ndata: {\"index\":1}\n\n" +
		"data:a\r\ndata\r\ndata: b\r\n\r\n" +
		"retry: 12x\nevent: shutdown\nretry: 1500\ndata: bye\n\n" +
		"id: 9\n\n"
	body := newEvents(strings.NewReader(stream), "3")
	want := []event{
		{Type: "value", ID: "7", HasID: true, Data: []byte(`{"index":1}`), Lines: 1, Retry: -1},
		{Type: "", ID: "7", Data: []byte("a\n\nb"), Lines: 3, Retry: -1},
		{Type: "shutdown", ID: "7", Data: []byte("bye"), Lines: 1, Retry: 1500},
		{Type: "", ID: "9", HasID: true, Lines: 0, Retry: -1},
	}
	for i, w := range want {
		ev, err := body.next()
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if ev.Type != w.Type || ev.ID != w.ID || ev.HasID != w.HasID || string(ev.Data) != string(w.Data) ||
			ev.Lines != w.Lines || ev.Retry != w.Retry {
			t.Errorf("block %d: got %+v (data %q), want %+v (data %q)", i, *ev, ev.Data, w, w.Data)
		}
	}
	if _, err := body.next(); err != io.EOF {
		t.Errorf("after the last block: %v, want EOF", err)
	}
	if body.Comments != 1 {
		t.Errorf("comments: %d, want 1", body.Comments)
	}
}

func TestEventsReadsALineLongerThanItsBuffer(t *testing.T) {
	long := strings.Repeat("x", 10000)
	body := newEvents(strings.NewReader("data: "+long+"\n\n"), "")
	ev, err := body.next()
	if err != nil || string(ev.Data) != long {
		t.Fatalf("got %d bytes, %v", len(ev.Data), err)
	}
}

func TestChecksCountIdsThatDoNotIncreaseAndMissingIndexes(t *testing.T) {
	c := newChecks()
	for _, v := range []struct{ id, data string }{
		{"10", `{"index":1}`}, {"11", `{"index":2}`}, {"11", `{"index":5,"value":3}`}, {"9", `{"index":6}`},
	} {
		c.value(&event{ID: v.id, HasID: true, Data: []byte(v.data)})
	}
	if c.Values != 4 || c.IDViolations != 2 || c.Gaps != 1 || c.Missing != 2 {
		t.Errorf("got %+v", c)
	}
}

func TestPercentileKeepsEachScenariosRank(t *testing.T) {
	ten := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, shift, want float64 }{{50, 1, 6}, {50, 0.5, 5}, {99, 1, 10}, {99, 0.5, 10}, {0, 1, 1}} {
		if got, _ := percentile(ten, c.p, c.shift); got != c.want {
			t.Errorf("p%v shift %v: %v, want %v", c.p, c.shift, got, c.want)
		}
	}
	if _, ok := percentile(nil, 50, 1); ok {
		t.Error("a percentile of nothing")
	}
}
