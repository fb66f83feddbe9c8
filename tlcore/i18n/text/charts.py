"""Chart labels, in English and Korean."""

EN = {
    "no_data": "n/a",
    "curve_accuracy": "Accuracy",
    "curve_loss": "Loss",
    "curve_train": "training",
    "curve_val": "validation",
    "curve_epoch": "Epoch",
    "curve_val_accuracy": "Validation accuracy",
    "layer_trained": "trained",
    "layer_frozen": "frozen",
    "layer_params": "Parameters (log scale)",
    "layer_groups": "Layer groups, input → output",
    "counts_images": "Images",
    "counts_class": "Class",
    "confusion_hover": "true %{{y}}, predicted %{{x}}: %{{z}} images",
    "confusion_true": "True class",
    "confusion_pred": "Predicted class",
}

KO = {
    "no_data": "없음",
    "curve_accuracy": "정확도",
    "curve_loss": "손실",
    "curve_train": "학습",
    "curve_val": "검증",
    "curve_epoch": "에포크",
    "curve_val_accuracy": "검증 정확도",
    "layer_trained": "재학습",
    "layer_frozen": "동결",
    "layer_params": "파라미터 수 (로그 눈금)",
    "layer_groups": "층 묶음, 입력 → 출력",
    "counts_images": "이미지 수",
    "counts_class": "클래스",
    "confusion_hover": "실제 %{{y}}, 예측 %{{x}}: %{{z}}장",
    "confusion_true": "실제 클래스",
    "confusion_pred": "예측 클래스",
}
