"""The predict page, in English and Korean."""

EN = {
    "predict_title": "5 · Predict",
    "predict_intro": "Choose a finished run and give its model some images.",
    "predict_none": "No trained model yet. Train one first.",
    "predict_go_train": "Go to training →",
    "predict_run": "Model (a finished run)",
    "predict_upload": "Images",
    "predict_samples": "Use a few validation images",
    "predict_samples_help": "Picks six images from the run's own validation set.",
    "predict_line": "{cls}: {p:.0%}",
    "predict_true": "true class: {cls}",
    "predict_next": "Next: all runs →",
}

KO = {
    "predict_title": "5 · 예측",
    "predict_intro": "끝난 실행을 고르고 그 모델에 이미지를 넣어 보세요.",
    "predict_none": "아직 학습된 모델이 없습니다. 먼저 학습하세요.",
    "predict_go_train": "학습하러 가기 →",
    "predict_run": "모델 (끝난 실행)",
    "predict_upload": "이미지",
    "predict_samples": "검증 이미지 몇 장 쓰기",
    "predict_samples_help": "그 실행의 검증 세트에서 이미지 여섯 장을 고릅니다.",
    "predict_line": "{cls}: {p:.0%}",
    "predict_true": "실제 클래스: {cls}",
    "predict_next": "다음: 모든 실행 →",
}
