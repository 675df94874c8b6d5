import datetime

from django.utils import translation

from council.templatetags.council_format import meeting_date, meeting_time


def test_meeting_date_in_both_languages():
    day = datetime.date(2026, 11, 27)
    with translation.override("ja"):
        assert meeting_date(day) == "令和8年11月27日(金)"
        assert meeting_date(datetime.date(2019, 5, 1)) == "令和元年5月1日(水)"
        assert meeting_date(datetime.date(2019, 4, 30)) == "平成31年4月30日(火)"
        assert meeting_time(datetime.time(10, 0)) == "10時"
        assert meeting_time(datetime.time(13, 30)) == "13時30分"
        assert meeting_date(None) == ""
    with translation.override("en"):
        assert meeting_date(day) == "Friday, 27 November 2026"
        assert meeting_time(datetime.time(13, 30)) == "13:30"
