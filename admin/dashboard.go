package admin

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/node/store"
)

// Modes are the kinds of reply, in the order the charts show them.
var Modes = []string{"answer", "suggest", "noinfo", "refuse"}

// modeColours are the chart colours per mode, with enough contrast on
// white (WCAG 1.4.11, 3:1 for graphics).
var modeColours = map[string]string{"answer": "#1a6b3c", "suggest": "#8a5a00", "noinfo": "#a3262a", "refuse": "#4a4a6a"}

// DayStat counts one day's questions by mode.
type DayStat struct {
	Date   string         `json:"date"` // YYYY-MM-DD, local time
	Total  int            `json:"total"`
	ByMode map[string]int `json:"by_mode"`
}

// Stats are a tenant's dashboard figures over a period.
type Stats struct {
	From            time.Time      `json:"from"`
	Days            []DayStat      `json:"days"`
	Total           int            `json:"total"`
	Modes           map[string]int `json:"modes"`
	FallbackShare   float64        `json:"fallback_share"`
	MedianLatencyMS float64        `json:"median_latency_ms"`
	FeedbackUp      int            `json:"feedback_up"`
	FeedbackDown    int            `json:"feedback_down"`
}

// MaxDays bounds the dashboard's period.
const MaxDays = 366

// stats computes the figures of the last days days for tenant.
func (a *Admin) stats(tenant string, days int) (Stats, error) {
	now := a.now().Local()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
	from := today.AddDate(0, 0, -(days - 1))
	st := Stats{From: from, Modes: map[string]int{}}
	index := map[string]int{}
	for i := range days {
		d := from.AddDate(0, 0, i).Format("2006-01-02")
		index[d] = i
		st.Days = append(st.Days, DayStat{Date: d, ByMode: map[string]int{}})
	}
	var lat []time.Duration
	fallback := 0
	err := a.deps.Store.Questions(tenant, from, func(q store.Question) bool {
		i, ok := index[q.Time.Local().Format("2006-01-02")]
		if !ok {
			return true
		}
		st.Days[i].Total++
		st.Days[i].ByMode[q.Mode]++
		st.Modes[q.Mode]++
		st.Total++
		lat = append(lat, q.Latency)
		if q.Fallback {
			fallback++
		}
		return true
	})
	if err != nil {
		return Stats{}, err
	}
	if st.Total > 0 {
		st.FallbackShare = float64(fallback) / float64(st.Total)
		slices.Sort(lat)
		m := lat[len(lat)/2]
		if len(lat)%2 == 0 {
			m = (lat[len(lat)/2-1] + lat[len(lat)/2]) / 2
		}
		st.MedianLatencyMS = float64(m.Microseconds()) / 1000
	}
	fb, err := a.deps.Store.FeedbackFor(tenant)
	if err != nil {
		return Stats{}, err
	}
	for _, f := range fb {
		if f.Time.Before(from) {
			continue
		}
		if f.Rating == "up" {
			st.FeedbackUp++
		} else {
			st.FeedbackDown++
		}
	}
	return st, nil
}

func daysParam(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("days"))
	if err != nil || n < 1 {
		return 30
	}
	return min(n, MaxDays)
}

type dashboardData struct {
	Stats    Stats
	Days     int
	PerDay   template.HTML // SVG
	ModesSVG template.HTML
	Feedback template.HTML
}

func (a *Admin) dashboardPage(w http.ResponseWriter, r *http.Request, p *principal) {
	days := daysParam(r)
	st, err := a.stats(r.PathValue("tenant"), days)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := a.newView(w, r, p, "dashboard.title", "dashboard")
	v.Data = dashboardData{Stats: st, Days: days, PerDay: perDaySVG(v.Lang, st), ModesSVG: modesSVG(v.Lang, st),
		Feedback: barsSVG("feedback-title", msg(v.Lang, "dashboard.feedback"), []bar{
			{msg(v.Lang, "feedback.up"), st.FeedbackUp, "#1a6b3c"}, {msg(v.Lang, "feedback.down"), st.FeedbackDown, "#a3262a"}})}
	a.render(w, r, http.StatusOK, "dashboard", v)
}

func (a *Admin) apiDashboard(w http.ResponseWriter, r *http.Request, p *principal) {
	st, err := a.stats(r.PathValue("tenant"), daysParam(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// perDaySVG draws the questions per day as stacked bars by mode. The
// numbers are in the table beside it too, for screen readers.
func perDaySVG(lang string, st Stats) template.HTML {
	const W, H, left, bottom, top = 720, 240, 40, 28, 10
	peak := 1
	for _, d := range st.Days {
		peak = max(peak, d.Total)
	}
	scale := niceCeil(peak)
	plotH := float64(H - bottom - top)
	bw := float64(W-left-10) / float64(len(st.Days))
	var b strings.Builder
	title := msg(lang, "dashboard.perday")
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="perday-title" xmlns="http://www.w3.org/2000/svg"><title id="perday-title">%s</title>`, W, H, template.HTMLEscapeString(title))
	for _, f := range []float64{0, 0.5, 1} {
		y := float64(top) + plotH*(1-f)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="axis" text-anchor="end">%d</text>`,
			left, W-10, y, y, left-6, y+4, int(f*float64(scale)))
	}
	for i, d := range st.Days {
		x := float64(left) + float64(i)*bw
		y := float64(top) + plotH
		for _, m := range Modes {
			n := d.ByMode[m]
			if n == 0 {
				continue
			}
			h := plotH * float64(n) / float64(scale)
			y -= h
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %d</title></rect>`,
				x+1, y, max(bw-2, 1), h, modeColours[m], d.Date, template.HTMLEscapeString(msg(lang, "mode."+m)), n)
		}
		if len(st.Days) <= 14 || (len(st.Days)-1-i)%7 == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="axis" text-anchor="middle">%s</text>`, x+bw/2, H-8, d.Date[5:])
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type bar struct {
	Label  string
	Value  int
	Colour string
}

func modesSVG(lang string, st Stats) template.HTML {
	var bars []bar
	for _, m := range Modes {
		bars = append(bars, bar{msg(lang, "mode."+m), st.Modes[m], modeColours[m]})
	}
	return barsSVG("modes-title", msg(lang, "dashboard.modes"), bars)
}

// barsSVG draws horizontal bars with their values written beside them.
func barsSVG(id, title string, bars []bar) template.HTML {
	const W, row, label = 360, 30, 150
	peak := 1
	for _, b := range bars {
		peak = max(peak, b.Value)
	}
	H := row*len(bars) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart chart-bars" viewBox="0 0 %d %d" role="img" aria-labelledby="%s" xmlns="http://www.w3.org/2000/svg"><title id="%s">%s</title>`,
		W, H, id, id, template.HTMLEscapeString(title))
	for i, br := range bars {
		y := 5 + i*row
		w := float64(W-label-50) * float64(br.Value) / float64(peak)
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="label" text-anchor="end">%s</text><rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/><text x="%.1f" y="%d" class="value">%d</text>`,
			label-8, y+18, template.HTMLEscapeString(br.Label), label, y+4, w, row-10, br.Colour, float64(label)+w+6, y+18, br.Value)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten.
func niceCeil(n int) int {
	p := 1
	for {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
		p *= 10
	}
}
