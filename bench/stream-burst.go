// Burst client for bench/stream-burst.sh: starts N requests for GET /sequence/stream
// (Accept: text/event-stream) on 127.0.0.1 one after the other, without waiting for any
// answer, and records for each client whether it connected, the status and content type of
// its answer, whether the answer was a value event or a busy event with a retry, and when it
// came, counted from the start of the first client. No client retries. A client keeps its
// connection for as long as the server does: a stream until the service shuts down, a busy
// answer until the server closes it (a keep-alive connection stays open, as a browser's
// would).
//
// Talks to the harness on stdout, one line each:
//
//	SETTLED <json>   every client has its answer or has failed; the harness may now check the
//	                 service and send SIGTERM
//	RESULT <json>    every connection has ended (or the close timeout passed); last line
//
// and writes one CSV line per client to -csv. Standard library only; every phase is bounded.
package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type client struct {
	Index        int
	StartMs      float64 // when it started to connect, from the first client's start
	Connected    bool
	ConnectMs    float64 // when the connection was established
	ConnectError string  // timeout, refused, reset, other: ...
	Status       int
	ContentType  string
	ConnClose    bool   // the answer carried Connection: close
	Kind         string // value, busy, none
	Retry        int    // the busy event's retry, ms; -1 if none
	AnswerMs     float64
	AnswerError  string // when connected but no answer: timeout, reset, eof, ...
	ServerClosed bool   // the server closed the connection (after a busy answer, or a stream's end)
	ClosedMs     float64
	Shutdown     bool // a stream that got the shutdown event
}

func classify(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other: " + err.Error()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

const request = "GET /sequence/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"

// readEvent reads one server-sent event (up to its blank line); name and retry as seen.
func readEvent(r *bufio.Reader) (name string, retry int, err error) {
	retry = -1
	seen := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return name, retry, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if seen {
				return name, retry, nil
			}
			continue
		}
		if strings.HasPrefix(line, ":") { // a comment (heartbeat)
			continue
		}
		seen = true
		if strings.HasPrefix(line, "event:") {
			name = strings.TrimSpace(line[len("event:"):])
		} else if strings.HasPrefix(line, "retry:") {
			retry, _ = strconv.Atoi(strings.TrimSpace(line[len("retry:"):]))
		}
	}
}

func run(c *client, addr string, t0 time.Time, connectTimeout time.Duration, answerBy, closeBy time.Time,
	settled *sync.WaitGroup, conns chan<- net.Conn) {
	answered := false
	defer func() {
		if !answered {
			settled.Done()
		}
	}()
	start := time.Now()
	c.StartMs = ms(start.Sub(t0))
	conn, err := net.DialTimeout("tcp", addr, connectTimeout)
	if err != nil {
		c.ConnectError = classify(err)
		return
	}
	conns <- conn
	c.Connected = true
	c.ConnectMs = ms(time.Since(t0))
	conn.SetDeadline(answerBy)
	if _, err := io.WriteString(conn, request); err != nil {
		c.AnswerError = "write: " + classify(err)
		return
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.AnswerError = classify(err)
		return
	}
	c.Status = resp.StatusCode
	c.ContentType = resp.Header.Get("Content-Type")
	c.ConnClose = resp.Close
	body := bufio.NewReader(resp.Body)
	name, retry, err := "", -1, error(nil)
	if strings.HasPrefix(c.ContentType, "text/event-stream") {
		name, retry, err = readEvent(body)
	} else {
		_, err = io.Copy(io.Discard, body)
	}
	if err != nil && !(errors.Is(err, io.EOF) && !strings.HasPrefix(c.ContentType, "text/event-stream")) {
		c.AnswerError = "body: " + classify(err)
		return
	}
	c.AnswerMs = ms(time.Since(t0))
	c.Retry = retry
	switch name {
	case "value":
		c.Kind = "value"
	case "busy":
		c.Kind = "busy"
	case "":
		c.Kind = "none"
	default:
		c.Kind = name
	}
	answered = true
	settled.Done()
	// Keep the connection for as long as the server does, within the close timeout
	conn.SetDeadline(closeBy)
	if c.Kind == "value" {
		for {
			name, _, err := readEvent(body)
			if err != nil {
				break
			}
			if name == "shutdown" {
				c.Shutdown = true
			}
		}
	} else {
		io.Copy(io.Discard, body)
	}
	// After the body (or the stream's end): does the server close the connection?
	var one [1]byte
	_, err = br.Read(one[:])
	if err != nil && classify(err) != "timeout" {
		c.ServerClosed = true
		c.ClosedMs = ms(time.Since(t0))
	}
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	k := int(p/100*float64(len(sorted))+0.5) - 1
	if k < 0 {
		k = 0
	}
	if k >= len(sorted) {
		k = len(sorted) - 1
	}
	return sorted[k]
}

func summary(cs []client, within time.Duration) map[string]any {
	count := map[string]int{}
	var answers, connects []float64
	var lastAnswer, lastConnect float64
	inTime := 0
	for i := range cs {
		c := &cs[i]
		if !c.Connected {
			count["connect_failed:"+c.ConnectError]++
			continue
		}
		count["connected"]++
		connects = append(connects, c.ConnectMs)
		if c.ConnectMs > lastConnect {
			lastConnect = c.ConnectMs
		}
		if c.AnswerError != "" {
			count["no_answer:"+c.AnswerError]++
			continue
		}
		key := fmt.Sprintf("answer:%d %s %s", c.Status, c.ContentType, c.Kind)
		if c.Kind == "busy" && c.Retry >= 0 {
			key += " retry"
		}
		count[key]++
		answers = append(answers, c.AnswerMs)
		if c.AnswerMs > lastAnswer {
			lastAnswer = c.AnswerMs
		}
		good := c.Status == 200 && strings.HasPrefix(c.ContentType, "text/event-stream") &&
			(c.Kind == "value" || (c.Kind == "busy" && c.Retry >= 0))
		if good {
			count["good"]++
			if c.AnswerMs <= ms(within) {
				inTime++
			}
		}
		if c.Kind == "busy" {
			if c.ConnClose {
				count["busy_connection_close"]++
			}
			if c.ServerClosed {
				count["busy_closed_by_server"]++
			}
		}
		if c.Kind == "value" && c.Shutdown {
			count["stream_saw_shutdown"]++
		}
	}
	sort.Float64s(answers)
	sort.Float64s(connects)
	return map[string]any{
		"clients":            len(cs),
		"counts":             count,
		"good_within_ms":     ms(within),
		"good_within":        inTime,
		"last_answer_ms":     lastAnswer,
		"answer_p50_ms":      percentile(answers, 50),
		"answer_p99_ms":      percentile(answers, 99),
		"last_connect_ms":    lastConnect,
		"connect_p99_ms":     percentile(connects, 99),
		"last_start_ms":      cs[len(cs)-1].StartMs,
		"every_client_good":  inTime == len(cs),
		"answered_all_by_ms": lastAnswer,
	}
}

func main() {
	port := flag.Int("port", 0, "the service's port on 127.0.0.1")
	n := flag.Int("clients", 10000, "how many stream requests")
	interval := flag.Duration("interval", 0, "pause between the starts of two clients")
	connectTimeout := flag.Duration("connect-timeout", 10*time.Second, "each client's connect timeout")
	answerDeadline := flag.Duration("answer-deadline", 120*time.Second, "from the first start: a client still without an answer gives up")
	within := flag.Duration("within", 60*time.Second, "the pass criterion: answered within this from the first start")
	closeTimeout := flag.Duration("close-timeout", 60*time.Second, "after SETTLED: how long connections are kept at most")
	csvPath := flag.String("csv", "", "where to write one line per client")
	flag.Parse()
	if *port == 0 {
		fmt.Fprintln(os.Stderr, "-port is required")
		os.Exit(2)
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	addr := "127.0.0.1:" + strconv.Itoa(*port)
	cs := make([]client, *n)
	var settled, done sync.WaitGroup
	settled.Add(*n)
	done.Add(*n)
	conns := make(chan net.Conn, *n)
	t0 := time.Now()
	answerBy := t0.Add(*answerDeadline)
	closeBy := answerBy.Add(*closeTimeout) // main closes every connection earlier, below
	for i := 0; i < *n; i++ {
		cs[i].Index = i
		go func(c *client) {
			defer done.Done()
			run(c, addr, t0, *connectTimeout, answerBy, closeBy, &settled, conns)
		}(&cs[i])
		if *interval > 0 {
			time.Sleep(*interval)
		}
	}
	settled.Wait()
	s := summary(cs, *within)
	s["settled_ms"] = ms(time.Since(t0))
	line, _ := json.Marshal(s)
	fmt.Printf("SETTLED %s\n", line)
	// The harness now sends SIGTERM; streams end with the shutdown. Bound the wait.
	finished := make(chan struct{})
	go func() { done.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(*closeTimeout):
	}
	close(conns)
	for conn := range conns {
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		conn.Close()
	}
	select {
	case <-finished:
	case <-time.After(2 * time.Second):
	}
	if *csvPath != "" {
		if f, err := os.Create(*csvPath); err == nil {
			w := csv.NewWriter(f)
			w.Write([]string{"index", "start_ms", "connected", "connect_ms", "connect_error", "status", "content_type",
				"connection_close", "kind", "retry_ms", "answer_ms", "answer_error", "server_closed", "closed_ms", "shutdown"})
			for _, c := range cs {
				w.Write([]string{strconv.Itoa(c.Index), fmt.Sprint(c.StartMs), strconv.FormatBool(c.Connected),
					fmt.Sprint(c.ConnectMs), c.ConnectError, strconv.Itoa(c.Status), c.ContentType,
					strconv.FormatBool(c.ConnClose), c.Kind, strconv.Itoa(c.Retry), fmt.Sprint(c.AnswerMs),
					c.AnswerError, strconv.FormatBool(c.ServerClosed), fmt.Sprint(c.ClosedMs), strconv.FormatBool(c.Shutdown)})
			}
			w.Flush()
			f.Close()
		}
	}
	r := summary(cs, *within)
	r["settled_ms"] = s["settled_ms"]
	line, _ = json.Marshal(r)
	fmt.Printf("RESULT %s\n", line)
}
