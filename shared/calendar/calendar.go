// Package calendar is the merchant's calendar: days, months, month ends and
// birthdays are counted in Asia/Shanghai, whatever zone the server runs in.
// Shanghai is a fixed +08:00 zone (China has no daylight saving), so no zone
// database is needed.
package calendar

import "time"

// The layouts of a day and a month as this codebase stores them.
const (
	DayLayout   = "20060102"
	MonthLayout = "200601"
)

var shanghai = time.FixedZone("CST", 8*3600)

// Zone is Asia/Shanghai, a fixed +08:00 zone.
func Zone() *time.Location { return shanghai }

// Day is the Shanghai calendar day of t as yyyymmdd.
func Day(t time.Time) string { return t.In(shanghai).Format(DayLayout) }

// Month is the Shanghai calendar month of t as yyyymm.
func Month(t time.Time) string { return t.In(shanghai).Format(MonthLayout) }

// Midnight is the instant the Shanghai day of t began.
func Midnight(t time.Time) time.Time {
	y, m, d := t.In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, shanghai)
}

// Date is the Shanghai date of t at midnight UTC: dates to count whole days
// between (Sub, AddDate) without zone arithmetic.
func Date(t time.Time) time.Time {
	y, m, d := t.In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ParseDay is the instant a yyyymmdd Shanghai day begins.
func ParseDay(day string) (time.Time, error) {
	return time.ParseInLocation(DayLayout, day, shanghai)
}

// NextDay is the yyyymmdd day after day.
func NextDay(day string) (string, error) {
	t, err := ParseDay(day)
	if err != nil {
		return "", err
	}
	return t.AddDate(0, 0, 1).Format(DayLayout), nil
}
