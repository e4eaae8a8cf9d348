package ui

import "time"

// meter turns a transfer's counts into the rate and ETA a bar shows. The
// rate counts only bytes moved in this run, over a window of the last
// seconds, so a resumed get never shows what it found on disk as speed.
type meter struct {
	done, total int64
	moved       int64 // bytes moved in this run
	told        bool  // moved comes from Moved; else done past base counts
	base        int64 // done at the first count, when moved is not told
	counted     bool
	first       time.Time // when the first byte moved
	lastMove    time.Time // when the last byte moved
	end         time.Time // when it finished; zero while running
	samples     []sample  // moved bytes over time, the last window
}

type sample struct {
	t time.Time
	n int64
}

// rateWindow is how far back the rate looks: long enough to be steady,
// short enough that a transfer slowing down shows it.
const rateWindow = 5 * time.Second

func (m *meter) set(done, total int64, now time.Time) {
	if !m.counted {
		m.counted, m.base = true, done
	}
	m.done, m.total = done, max(total, done)
	if !m.told {
		m.note(done-m.base, now)
	}
}

func (m *meter) setMoved(n int64, now time.Time) {
	if !m.told {
		m.told, m.moved, m.samples, m.first = true, 0, nil, time.Time{}
	}
	m.note(n, now)
}

func (m *meter) note(n int64, now time.Time) {
	if n > 0 && m.first.IsZero() {
		m.first = now
		m.samples = append(m.samples, sample{now, 0})
	}
	if n > m.moved {
		m.lastMove = now
	}
	m.moved = max(m.moved, n)
	if m.first.IsZero() {
		return
	}
	m.samples = append(m.samples, sample{now, m.moved})
	for len(m.samples) > 2 && now.Sub(m.samples[1].t) > rateWindow {
		m.samples = m.samples[1:]
	}
}

// started reports whether a byte has moved.
func (m *meter) started() bool { return !m.first.IsZero() }

// rate is bytes a second over the window; over the whole run once it
// ended.
func (m *meter) rate(now time.Time) float64 {
	if m.first.IsZero() || len(m.samples) == 0 {
		return 0
	}
	if !m.end.IsZero() {
		if d := m.end.Sub(m.first).Seconds(); d > 0 {
			return float64(m.moved) / d
		}
		return 0
	}
	// From the last sample at least a window old: nothing moving for a
	// window is a rate of 0, not the last burst spread over more time.
	s := m.samples[0]
	for _, x := range m.samples[1:] {
		if now.Sub(x.t) < rateWindow {
			break
		}
		s = x
	}
	d := now.Sub(s.t).Seconds()
	if d < 0.2 { // too short to say
		return 0
	}
	return float64(m.moved-s.n) / d
}
