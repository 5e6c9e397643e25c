package main

// load record: the event-stream client of bench/rolling_restart.py. It reads GET /sequence/stream
// on 127.0.0.1 as a browser's EventSource does (the WHATWG processing model) and records every
// event.
//
// With -follow (the SSE client, through the proxy): after the stream ends or the connection
// fails, it waits the retry the service sent (3 s before any) and connects again with
// Last-Event-ID; an answer that is not a 200 text/event-stream ends it for good, as it ends an
// EventSource. Without (a tap on one process, directly): one connection, no reconnect. SIGTERM
// (or SIGINT) closes the connection and ends it: the harness's teardown. Times are seconds of
// CLOCK_MONOTONIC, the clock of Python's time.monotonic(). On stdout, one line each, as it comes:
//
//	EVENT <json>       every event an EventSource dispatches: t (when the read that completed it
//	                   returned), connection (from 1), type ("message" if none), id (the last
//	                   event ID), data
//	CONNECTION <json>  every connection, once it is over: t (when it started), last_event_id_sent,
//	                   status, content_type, error, ended, then_waited_ms, and its value events'
//	                   checks (values, id_violations, gaps, missing_values)
//	RESULT <json>      connections, events, gave_up (null unless it did), the checks summed; last line

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

type connection struct {
	T               float64 `json:"t"`
	LastEventIDSent *string `json:"last_event_id_sent"`
	Status          int     `json:"status,omitempty"`
	ContentType     string  `json:"content_type,omitempty"`
	Error           string  `json:"error,omitempty"`
	Ended           string  `json:"ended,omitempty"`
	ThenWaitedMs    *int64  `json:"then_waited_ms,omitempty"`
	checks
}

type recorded struct {
	T          float64 `json:"t"`
	Connection int     `json:"connection"`
	Type       string  `json:"type"`
	ID         string  `json:"id"`
	Data       string  `json:"data"`
}

// recorder is the state an EventSource keeps across its connections.
type recorder struct {
	addr    string
	timeout time.Duration
	lastID  string
	retry   int64
	events  int
	stop    chan struct{}
	clock   time.Time // when CLOCK_MONOTONIC read clockAt
	clockAt float64
}

func record(args []string) {
	var port int
	var follow bool
	r := &recorder{retry: 3000, stop: make(chan struct{})}
	options("record", args, func(f *flagSet) {
		f.IntVar(&port, "port", 0, "the port on 127.0.0.1 (the service's, or a proxy's)")
		f.BoolVar(&follow, "follow", false, "reconnect as an EventSource does, until SIGTERM")
		f.DurationVar(&r.timeout, "timeout", 30*time.Second, "bound on the connect and on each read")
	})
	if port == 0 {
		fmt.Fprintln(os.Stderr, "-port is required")
		os.Exit(2)
	}
	r.addr = "127.0.0.1:" + strconv.Itoa(port)
	var ts syscall.Timespec
	const clockMonotonic = 1
	r.clock = time.Now()
	_, _, _ = syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0)
	r.clockAt = float64(ts.Sec) + float64(ts.Nsec)/1e9
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-signals; close(r.stop) }()

	var all checks
	var gaveUp *string
	n := 0
	for !stopped(r.stop) {
		n++
		conn, answer := r.connect(n)
		all.add(&conn.checks)
		if answer != "" {
			gaveUp = &answer
		} else if follow && !stopped(r.stop) {
			wait := r.retry
			conn.ThenWaitedMs = &wait
		}
		line, _ := json.Marshal(conn)
		say("CONNECTION %s", line)
		if conn.ThenWaitedMs == nil {
			break
		}
		pause(r.stop, time.Duration(r.retry)*time.Millisecond)
	}
	result := map[string]interface{}{"connections": n, "events": r.events, "gave_up": gaveUp,
		"values": all.Values, "id_violations": all.IDViolations, "gaps": all.Gaps, "missing_values": all.Missing}
	line, _ := json.Marshal(result)
	say("RESULT %s", line)
}

func (r *recorder) monotonic(t time.Time) float64 {
	return r.clockAt + t.Sub(r.clock).Seconds()
}

// connect follows the stream on connection n until it ends; the answer, if it was not a 200
// event stream (an EventSource gives up on it).
func (r *recorder) connect(n int) (conn connection, gaveUp string) {
	conn = connection{T: r.monotonic(time.Now()), checks: newChecks()}
	headers := append(append([]string{}, acceptEvents...), "Cache-Control", "no-cache")
	if r.lastID != "" {
		sent := r.lastID
		conn.LastEventIDSent = &sent
		headers = append(headers, "Last-Event-ID", sent)
	}
	err := func() error {
		c, err := dial(r.addr, "", r.timeout, 1)
		if err != nil {
			return err
		}
		defer c.Close()
		over := make(chan struct{})
		defer close(over)
		go func() {
			select {
			case <-r.stop:
				c.Close()
			case <-over:
			}
		}()
		c.idle = r.timeout
		if err = c.send(streamPath, headers...); err != nil {
			return err
		}
		response, err := c.answer()
		if err != nil {
			return err
		}
		conn.Status, conn.ContentType = response.StatusCode, response.Header.Get("Content-Type")
		if conn.Status != 200 || !isEventStream(response) {
			_, _ = io.Copy(io.Discard, response.Body)
			gaveUp = fmt.Sprintf("answer %d %s", conn.Status, conn.ContentType)
			return nil
		}
		return r.read(c, newEvents(response.Body, r.lastID), n, &conn.checks)
	}()
	switch {
	case stopped(r.stop):
		conn.Ended = "closed by the harness"
	case err != nil:
		conn.Error = err.Error()
	case gaveUp == "":
		conn.Ended = "end of stream"
	}
	return conn, gaveUp
}

// read records the events of one connection up to the end of its stream.
func (r *recorder) read(c *conn, body *events, n int, values *checks) error {
	for {
		ev, err := body.next()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		r.lastID = ev.ID
		if ev.Retry >= 0 {
			r.retry = ev.Retry
		}
		if ev.Lines == 0 {
			continue
		}
		kind := ev.Type
		if kind == "" {
			kind = "message"
		} else if kind == "value" {
			values.value(ev)
		}
		r.events++
		line, _ := json.Marshal(recorded{T: r.monotonic(c.last), Connection: n, Type: kind, ID: ev.ID, Data: string(ev.Data)})
		say("EVENT %s", line)
	}
}
