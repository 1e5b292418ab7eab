// Reads an iCalendar document on stdin with ical.js (Thunderbird's parser) and prints every event as JSON:
// all-day events as dates, timed events as UTC instants resolved through the calendar's own VTIMEZONE.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const root = new ICAL.Component(ICAL.parse(Buffer.concat(chunks).toString("utf8")));
for (const vtz of root.getAllSubcomponents("vtimezone")) ICAL.TimezoneService.register(vtz);
const events = root.getAllSubcomponents("vevent").map((vevent) => {
  const ev = new ICAL.Event(vevent);
  const when = (t) => (t.isDate ? { date: t.toString() } : { utc: t.toJSDate().toISOString() });
  return {
    uid: ev.uid, summary: ev.summary, start: when(ev.startDate), end: when(ev.endDate),
    status: vevent.getFirstPropertyValue("status"), sequence: ev.sequence,
  };
});
process.stdout.write(JSON.stringify(events));
