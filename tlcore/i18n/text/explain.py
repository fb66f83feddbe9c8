"""Explanations (Grad-CAM), confidence, two models side by side, the mistakes gallery and exports, in English and Korean."""

EN = {
    "explain_heatmap_for": "Heatmaps show the evidence for",
    "explain_heatmap_predicted": "each image's predicted class",
    "explain_heatmap_help": "Grad-CAM: warm colours mark the parts of the image that raised this class's score the "
                            "most; blue parts did not speak for it. Pick a class to see where the model finds "
                            "evidence for it, even when it answered something else.",
    "explain_show_heatmaps": "Show heatmaps",
    "explain_evidence": "evidence for {cls}",
    "explain_answer": "**{cls}** ({p:.0%} sure)",
    "explain_bar": "{cls}: {p:.1%}",
    "explain_more_classes": "+{n} more classes: {p:.1%} together",
    "explain_right": ":green[**✓ right**] (true class: {cls})",
    "explain_wrong": ":red[**✗ wrong**] (true class: {cls})",
    "explain_true_unknown": "True class {cls} is not one of this model's classes.",
    "explain_bad_image": "{name}: {error}",
    "explain_grid_caption": "Heatmaps: Grad-CAM on {layer}, the network's last convolutional group, which sees a "
                            "{size}×{size} image as {h}×{w} cells; that is how sharp the heatmap can be.",
    "explain_run_name": "{plan} · {model} · {acc:.0%} ({run_id})",
    "compare_models_title": "Two models, same images: what changed?",
    "compare_models_intro": "Put a model beside another trained on the same data, for example a frozen backbone "
                            "with a new head (head) beside one fine-tuned throughout (full), and see whether "
                            "fine-tuning moved where the model looks.",
    "compare_models_with": "Compare with",
    "compare_models_none": "Only one trained model so far. Train another plan on the same data to compare where "
                           "each one looks.",
    "compare_models_no_images": "Add images above to compare the two models on them.",
    "compare_models_image": "**Image**",
    "compare_models_caption": "{pred} ({p:.0%}); evidence for {cls}",
    "gallery_title": "**Misclassified validation images**: {shown} of {n:,} shown, the most confident mistakes first",
    "gallery_none": "No validation image was misclassified.",
    "gallery_files_gone": "The misclassified images are no longer on disk.",
    "gallery_heatmaps": "Show what the model looked at",
    "gallery_heatmaps_help": "Each heatmap shows the evidence for the wrong answer: what misled the model.",
    "gallery_caption": "{true} → {pred} ({conf:.0%})",
    "export_title": "Take the model with you",
    "export_intro": "Export the model for use outside this app. Every export is checked as it is written: on the "
                    "run's validation images it must give the same probabilities as here, to within 0.0001. The "
                    "zip holds the model, a model card (classes, input size, normalization, metrics, training "
                    "settings) and a README with a short example.",
    "export_format": "Format",
    "export_fmt_onnx": "ONNX (onnxruntime: Python, C++, C#, Java, JavaScript, phones)",
    "export_fmt_torchscript": "TorchScript (PyTorch alone, without this app)",
    "export_fmt_state_dict": "state dict (the weights, for PyTorch with this app's code)",
    "export_button": "Export and verify",
    "export_running": "Exporting and checking the export against the model…",
    "export_verified": "Verified: on {n} {inputs} the probabilities differ from the model's by at most {diff:.1e} "
                       "(allowed: {tol:.0e}; run with {runtime}).",
    "export_inputs_validation": "validation images",
    "export_inputs_random": "random images (the run's validation images were not found)",
    "export_download": "Download {fmt} ({size}, zip)",
    "export_readme": "The model takes uint8 RGB pixels and normalizes them itself; README.txt in the zip shows how "
                     "to load it and predict. `python -m tlcore predict FOLDER IMAGE` checks the file's checksum "
                     "and predicts.",
}

KO = {
    "explain_heatmap_for": "히트맵이 보여 줄 근거의 클래스",
    "explain_heatmap_predicted": "각 이미지의 예측 클래스",
    "explain_heatmap_help": "Grad-CAM: 따뜻한 색은 이 클래스의 점수를 가장 많이 올린 부분이고, 파란 부분은 이 "
                            "클래스의 근거가 되지 않은 곳입니다. 클래스를 고르면 모델이 다른 답을 냈더라도 그 "
                            "클래스의 근거를 어디에서 찾는지 볼 수 있습니다.",
    "explain_show_heatmaps": "히트맵 보기",
    "explain_evidence": "{cls}의 근거",
    "explain_answer": "**{cls}** (확신 {p:.0%})",
    "explain_bar": "{cls}: {p:.1%}",
    "explain_more_classes": "나머지 {n}개 클래스: 합쳐서 {p:.1%}",
    "explain_right": ":green[**✓ 정답**] (실제 클래스: {cls})",
    "explain_wrong": ":red[**✗ 오답**] (실제 클래스: {cls})",
    "explain_true_unknown": "실제 클래스 {cls}은(는) 이 모델의 클래스가 아닙니다.",
    "explain_bad_image": "{name}: {error}",
    "explain_grid_caption": "히트맵: 신경망의 마지막 합성곱 그룹인 {layer}에서 구한 Grad-CAM입니다. 이 그룹은 "
                            "{size}×{size} 이미지를 {h}×{w}칸으로 보므로, 히트맵도 그만큼만 세밀합니다.",
    "explain_run_name": "{plan} · {model} · {acc:.0%} ({run_id})",
    "compare_models_title": "같은 이미지, 두 모델: 무엇이 달라졌을까요?",
    "compare_models_intro": "같은 데이터로 학습한 다른 모델과 나란히 놓아 보세요. 예를 들어 백본을 동결하고 새 "
                            "헤드만 학습한 모델(head)과 전체를 미세 조정한 모델(full)을 비교하면, 미세 조정이 "
                            "모델이 보는 곳을 바꿨는지 알 수 있습니다.",
    "compare_models_with": "비교할 모델",
    "compare_models_none": "아직 학습된 모델이 하나뿐입니다. 같은 데이터로 다른 계획을 학습하면 두 모델이 어디를 "
                           "보는지 비교할 수 있습니다.",
    "compare_models_no_images": "위에서 이미지를 넣으면 두 모델을 그 이미지로 비교합니다.",
    "compare_models_image": "**이미지**",
    "compare_models_caption": "{pred} ({p:.0%}); {cls}의 근거",
    "gallery_title": "**잘못 분류한 검증 이미지**: {n:,}장 중 {shown}장 (가장 확신했던 실수부터)",
    "gallery_none": "잘못 분류한 검증 이미지가 없습니다.",
    "gallery_files_gone": "잘못 분류한 이미지 파일이 더 이상 디스크에 없습니다.",
    "gallery_heatmaps": "모델이 본 곳 보기",
    "gallery_heatmaps_help": "각 히트맵은 틀린 답의 근거, 곧 모델을 헷갈리게 한 부분을 보여 줍니다.",
    "gallery_caption": "{true} → {pred} ({conf:.0%})",
    "export_title": "모델 가져가기",
    "export_intro": "이 앱 밖에서 쓸 수 있도록 모델을 내보냅니다. 내보낼 때마다 검사합니다: 이 실행의 검증 "
                    "이미지에서 여기와 같은 확률을 0.0001 이내로 내야 합니다. zip에는 모델, 모델 카드(클래스, "
                    "입력 크기, 정규화, 성능, 학습 설정)와 짧은 예제가 담긴 README가 들어 있습니다.",
    "export_format": "형식",
    "export_fmt_onnx": "ONNX (onnxruntime: Python, C++, C#, Java, JavaScript, 휴대폰)",
    "export_fmt_torchscript": "TorchScript (이 앱 없이 PyTorch만으로)",
    "export_fmt_state_dict": "state dict (가중치: 이 앱의 코드와 PyTorch로)",
    "export_button": "내보내고 검증하기",
    "export_running": "내보내고, 내보낸 모델을 원래 모델과 맞춰 보는 중…",
    "export_verified": "검증 완료: {n}장의 {inputs}에서 확률 차이가 최대 {diff:.1e}입니다 (허용: {tol:.0e}; "
                       "{runtime}로 실행).",
    "export_inputs_validation": "검증 이미지",
    "export_inputs_random": "무작위 이미지 (이 실행의 검증 이미지를 찾지 못했습니다)",
    "export_download": "{fmt} 내려받기 ({size}, zip)",
    "export_readme": "모델은 uint8 RGB 픽셀을 받아 스스로 정규화합니다. zip 안의 README.txt에 불러오고 예측하는 "
                     "방법이 있습니다. `python -m tlcore predict 폴더 이미지`는 파일의 체크섬을 확인한 뒤 "
                     "예측합니다.",
}
