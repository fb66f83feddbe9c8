"""Texts every page shares: times in the viewer's zone, in English and Korean."""

EN = {
    "time_with_ago": "{time} ({ago})",
    "time_zone_server": "{zone} (the server's time zone; your browser did not say its own)",
    "ago_now": "just now",
    "ago_min": "{n} min ago",
    "ago_hours": "{n} h ago",
    "ago_days": "{n} days ago",
}

KO = {
    "time_with_ago": "{time} ({ago})",
    "time_zone_server": "{zone} (서버의 시간대, 브라우저가 시간대를 알려 주지 않았습니다)",
    "ago_now": "방금",
    "ago_min": "{n}분 전",
    "ago_hours": "{n}시간 전",
    "ago_days": "{n}일 전",
}
