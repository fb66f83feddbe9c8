"""The runs page, in English and Korean."""

EN = {
    "runs_title": "6 · Runs",
    "runs_none": "No runs yet.",
    "col_run": "Run",
    "col_label": "Label",
    "col_model": "Backbone",
    "col_epochs": "Epochs",
    "col_created": "Started",
    "runs_pick": "Run",
    "runs_open": "Open its curves",
    "runs_confirm": "Yes, delete it",
    "runs_delete": "Delete",
    "runs_deleted": "Deleted {run_id}.",
}

KO = {
    "runs_title": "6 · 실행 기록",
    "runs_none": "아직 실행이 없습니다.",
    "col_run": "실행",
    "col_label": "이름",
    "col_model": "백본",
    "col_epochs": "에포크",
    "col_created": "시작 시각",
    "runs_pick": "실행",
    "runs_open": "곡선 다시 보기",
    "runs_confirm": "네, 삭제합니다",
    "runs_delete": "삭제",
    "runs_deleted": "{run_id}을(를) 삭제했습니다.",
}
