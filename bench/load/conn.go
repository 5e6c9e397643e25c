package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// The stream's request: GET /sequence/stream with Accept: text/event-stream (headers as name,
// value pairs, as conn.send takes them)
const streamPath = "/sequence/stream"

var acceptEvents = []string{"Accept", "text/event-stream"}

// conn is one client connection: the socket, the buffered reader of what the server sends, and
// the time the last read from the socket returned (every event completed by that read was
// received then; only the goroutine that reads touches it). With arrival times on (stampArrivals),
// also the kernel's time of the last segment that read took: when the bytes reached the client's
// socket, before the client's own goroutines got to them.
type conn struct {
	net.Conn
	host    string
	br      *bufio.Reader
	last    time.Time
	arrived time.Time     // zero unless stampArrivals succeeded
	idle    time.Duration // > 0: each read must return within it
	raw     syscall.RawConn
	oob     []byte
}

// dial connects to addr (host:port) within timeout, from the source address from unless it is
// empty, trying again up to attempts times in all, 50 ms longer apart each time.
func dial(addr, from string, timeout time.Duration, attempts int) (*conn, error) {
	dialer := &net.Dialer{Timeout: timeout}
	if from != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	var err error
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(50*attempt) * time.Millisecond)
		}
		var socket net.Conn
		if socket, err = dialer.Dial("tcp", addr); err == nil {
			c := &conn{Conn: socket, host: addr}
			c.br = bufio.NewReaderSize(c, 4096)
			return c, nil
		}
	}
	return nil, err
}

func (c *conn) Read(p []byte) (int, error) {
	if c.idle > 0 {
		_ = c.SetReadDeadline(time.Now().Add(c.idle))
	}
	if c.raw != nil {
		return c.readStamped(p)
	}
	n, err := c.Conn.Read(p)
	c.last = time.Now()
	return n, err
}

// stampArrivals asks the kernel for the receive time of what each read takes (SO_TIMESTAMPNS):
// on loopback, the moment the server's write put it on the client's socket.
func (c *conn) stampArrivals() error {
	tcp, ok := c.Conn.(*net.TCPConn)
	if !ok {
		return errors.New("not a TCP connection")
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		return err
	}
	var set error
	if err = raw.Control(func(fd uintptr) {
		set = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	if set != nil {
		return set
	}
	c.raw, c.oob = raw, make([]byte, syscall.CmsgSpace(16))
	return nil
}

// readStamped reads as Read does, through recvmsg, and keeps the kernel's time of the last
// segment it took (for TCP, Linux gives the time of the last one a recvmsg consumes).
func (c *conn) readStamped(p []byte) (int, error) {
	var n, oobn int
	var rerr error
	err := c.raw.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = syscall.Recvmsg(int(fd), p, c.oob, 0)
		return rerr != syscall.EAGAIN
	})
	c.last = time.Now()
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, err
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	if messages, perr := syscall.ParseSocketControlMessage(c.oob[:oobn]); perr == nil {
		for _, m := range messages {
			if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
				ts := (*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
				c.arrived = time.Unix(ts.Sec, ts.Nsec)
			}
		}
	}
	return n, nil
}

// request is the head of a GET of path on HTTP/1.1, with the headers given as name, value pairs.
func (c *conn) request(path string, headers ...string) string {
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: " + c.host + "\r\n")
	for i := 0; i+1 < len(headers); i += 2 {
		b.WriteString(headers[i] + ": " + headers[i+1] + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// send writes the request; answer reads the head of the answer (its body then reads from the
// connection as it comes).
func (c *conn) send(path string, headers ...string) error {
	_, err := io.WriteString(c.Conn, c.request(path, headers...))
	return err
}

func (c *conn) answer() (*http.Response, error) {
	return http.ReadResponse(c.br, nil)
}

// isEventStream: the answer says its body is an event stream.
func isEventStream(response *http.Response) bool {
	return strings.HasPrefix(response.Header.Get("Content-Type"), "text/event-stream")
}

// classify names why a connection or a read failed: refused, reset, broken pipe, eof, timeout,
// or other: and the error's text.
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
