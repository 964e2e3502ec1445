package node

import (
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node/crawl"
)

func TestDue(t *testing.T) {
	nightly, err := cronParser.Parse("0 3 * * *")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	since := at("2026-11-28 12:00")
	tests := []struct {
		name string
		jobs []crawl.Job
		now  time.Time
		want bool
	}{
		{"never ran, before the first 3:00", nil, at("2026-11-28 23:00"), false},
		{"never ran, after the first 3:00", nil, at("2026-11-29 03:00"), true},
		{"ran at 3:00 today", []crawl.Job{{Started: at("2026-11-29 03:00")}}, at("2026-11-29 14:00"), false},
		{"ran yesterday, now past 3:00", []crawl.Job{{Started: at("2026-11-28 03:00")}}, at("2026-11-29 03:01"), true},
		{"missed nights while down run once", []crawl.Job{{Started: at("2026-11-20 03:00")}}, at("2026-11-29 10:00"), true},
	}
	for _, tt := range tests {
		if got := due(nightly, tt.jobs, since, tt.now); got != tt.want {
			t.Errorf("%s: due = %v", tt.name, got)
		}
	}
	if ValidSchedule("0 3 * * *") != nil || ValidSchedule("@daily") != nil || ValidSchedule("") != nil || ValidSchedule("elke nacht") == nil {
		t.Error("ValidSchedule")
	}
}
