package wxwork

import (
	"bytes"
	"encoding/xml"
	"strconv"

	"github.com/wemember/wemember/shared/errs"
)

// The event and change types of external-contact callbacks.
const (
	EventChangeExternalContact = "change_external_contact"

	ChangeAdd       = "add_external_contact"      // A customer added a member of staff.
	ChangeAddHalf   = "add_half_external_contact" // Added, but the customer has not yet accepted.
	ChangeEdit      = "edit_external_contact"     // Remark, tags, … changed.
	ChangeDel       = "del_external_contact"      // The staff member deleted the customer.
	ChangeDelFollow = "del_follow_user"           // The customer deleted the staff member.
)

const (
	maxField         = 1024 // State, WelcomeCode, Source.
	maxID            = 128  // Ids and type names.
	fromUserNameSys  = "sys"
	msgTypeEventName = "event"
)

// Event is a verified WeCom callback event.
type Event struct {
	ToUserName     string // The corp id.
	FromUserName   string // "sys" for system events.
	CreateTime     int64  // Unix seconds, set by WeCom.
	MsgType        string // "event".
	Event          string // "change_external_contact", …
	ChangeType     string // One of the Change… constants for external-contact events.
	UserID         string // The member of staff.
	ExternalUserID string // The customer.
	State          string // The contact way's state (channel or inviter), if any.
	WelcomeCode    string // For sending the welcome message (add events; valid 20 s).
	Source         string // Why it was deleted (del_external_contact), if given.
}

type wire struct {
	XMLName        xml.Name `xml:"xml"`
	ToUserName     string   `xml:"ToUserName"`
	FromUserName   string   `xml:"FromUserName"`
	CreateTime     int64    `xml:"CreateTime"`
	MsgType        string   `xml:"MsgType"`
	Event          string   `xml:"Event"`
	ChangeType     string   `xml:"ChangeType"`
	UserID         string   `xml:"UserID"`
	ExternalUserID string   `xml:"ExternalUserID"`
	State          string   `xml:"State"`
	WelcomeCode    string   `xml:"WelcomeCode"`
	Source         string   `xml:"Source"`
}

// knownChange reports whether t is one of the five change types whose UserID
// and ExternalUserID are required.
func knownChange(t string) bool {
	switch t {
	case ChangeAdd, ChangeAddHalf, ChangeEdit, ChangeDel, ChangeDelFollow:
		return true
	}
	return false
}

func decodeEvent(b []byte) (*Event, error) {
	const op = "wxwork.decodeEvent"
	var w wire
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(&w); err != nil {
		return nil, errs.E(op, errs.Invalid, "event is not valid XML")
	}
	e := Event{
		ToUserName: w.ToUserName, FromUserName: w.FromUserName, CreateTime: w.CreateTime,
		MsgType: w.MsgType, Event: w.Event, ChangeType: w.ChangeType, UserID: w.UserID,
		ExternalUserID: w.ExternalUserID, State: w.State, WelcomeCode: w.WelcomeCode, Source: w.Source,
	}
	for _, f := range []string{e.ToUserName, e.FromUserName, e.MsgType, e.Event, e.ChangeType, e.UserID, e.ExternalUserID} {
		if len(f) > maxID {
			return nil, errs.E(op, errs.Invalid, "event id field too long")
		}
	}
	if len(e.State) > maxField || len(e.WelcomeCode) > maxField || len(e.Source) > maxField {
		return nil, errs.E(op, errs.Invalid, "event field too long")
	}
	if e.MsgType == "" || e.CreateTime <= 0 {
		return nil, errs.E(op, errs.Invalid, "event lacks MsgType or CreateTime")
	}
	if e.Event == EventChangeExternalContact && knownChange(e.ChangeType) &&
		(e.UserID == "" || e.ExternalUserID == "") {
		return nil, errs.E(op, errs.Invalid, "external-contact event lacks UserID or ExternalUserID")
	}
	return &e, nil
}

// IsExternalContact reports whether e is a change_external_contact event
// with one of the five known change types.
func (e *Event) IsExternalContact() bool {
	return e.MsgType == msgTypeEventName && e.Event == EventChangeExternalContact && knownChange(e.ChangeType)
}

// IsSystem reports whether WeCom itself sent the event (FromUserName "sys").
func (e *Event) IsSystem() bool { return e.FromUserName == fromUserNameSys }

// DedupKey is the idempotency key for WeCom's retries:
// "wecom:<ChangeType>:<UserID>:<ExternalUserID>:<CreateTime>".
func (e *Event) DedupKey() string {
	return "wecom:" + e.ChangeType + ":" + e.UserID + ":" + e.ExternalUserID + ":" + strconv.FormatInt(e.CreateTime, 10)
}
