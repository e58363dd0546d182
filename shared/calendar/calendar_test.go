package calendar_test

import (
	"testing"
	"time"

	"github.com/wemember/wemember/shared/calendar"
)

func TestDayIsShanghaiDay(t *testing.T) {
	// 16:30 UTC on 31 March is 00:30 on 1 April in Shanghai.
	at := time.Date(2026, 3, 31, 16, 30, 0, 0, time.UTC)
	if got, want := calendar.Day(at), "20260401"; got != want {
		t.Errorf("Day = %s, want %s", got, want)
	}
	if got, want := calendar.Month(at), "202604"; got != want {
		t.Errorf("Month = %s, want %s", got, want)
	}
	if got, want := calendar.Midnight(at), time.Date(2026, 3, 31, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Midnight = %v, want %v", got, want)
	}
	if got, want := calendar.Date(at), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Date = %v, want %v", got, want)
	}
	if _, off := at.In(calendar.Zone()).Zone(); off != 8*3600 {
		t.Errorf("Zone offset = %d, want %d", off, 8*3600)
	}
}

func TestParseAndNextDay(t *testing.T) {
	got, err := calendar.ParseDay("20260401")
	if want := time.Date(2026, 3, 31, 16, 0, 0, 0, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("ParseDay = %v, %v; want %v", got, err, want)
	}
	if _, err := calendar.ParseDay("2026-04-01"); err == nil {
		t.Error("ParseDay(2026-04-01) succeeded; want an error")
	}
	for day, want := range map[string]string{"20260331": "20260401", "20261231": "20270101", "20280228": "20280229"} {
		if got, err := calendar.NextDay(day); err != nil || got != want {
			t.Errorf("NextDay(%s) = %s, %v; want %s", day, got, err, want)
		}
	}
}
