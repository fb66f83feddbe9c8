"""The data page, in English and Korean."""

EN = {
    "data_title": "1 · Your data",
    "data_intro": "Pick the images to train on. The built-in lab makes a dataset of coloured shapes on the spot, "
                  "with two dials: how many images per class, and how similar they look to the world the lab's "
                  "network (labnet) was pretrained on.",
    "data_source": "Where do the images come from?",
    "source_lab": "Built-in lab (offline)",
    "source_photos": "Built-in real photos (offline)",
    "photos_explain": "Two classes of real photos, **person** and **no person**, cut from {n} photos that ship inside "
                      "installed packages (scikit-image, scikit-learn, matplotlib; public domain or CC licences, listed "
                      "in the README). Validation uses two photos that training never sees, so its accuracy is honest; "
                      "with so few source photos it is a demonstration, not a benchmark. Pair it with efficientnet_lite0, "
                      "a real ImageNet network that works offline.",
    "source_upload": "Upload a .zip",
    "source_folder": "A folder on the server",
    "lab_per_class": "Training images per class",
    "lab_per_class_help": "The size dial. 1,000 or more per class counts as large.",
    "lab_similarity": "Similarity to the pretraining world",
    "lab_similarity_help": "1: the same kind of pictures labnet learned from (new shapes); 0: a very different world "
                           "(grey, textured, no colour edges).",
    "lab_explain": "Six shape classes, 32×32 pixels, plus {val} validation images per class. Nothing is downloaded.",
    "lab_preparing": "Drawing the lab images (only the first time for these dials)...",
    "lab_label": "lab (similarity {s:.2f}, {n} per class)",
    "upload_explain": "A .zip of a folder with one subfolder per class (for example cats/1.jpg, dogs/1.jpg), "
                      "optionally split into train/ and val/.",
    "upload_label": "Dataset (.zip)",
    "upload_checking": "Checking every image...",
    "folder_none": "No dataset folders are available. The server's administrator can put them in: {roots}.",
    "folder_label": "Dataset folder",
    "folder_help": "Only folders inside the data roots configured on the server (TLCORE_DATA_ROOTS) are listed.",
    "data_summary": "What is in {label}",
    "metric_classes": "Classes",
    "metric_images": "Usable images",
    "metric_per_class": "Training images per class",
    "metric_size": "Size",
    "metric_size_help_measured": "Large from {n:,.0f} training images per class: the size line measured for {model} "
                                 "(see the decision map).",
    "metric_size_help_rule_of_thumb": "Large from {n:,.0f} training images per class: the rule of thumb for "
                                      "ImageNet-sized networks such as {model}.",
    "size_small": "small",
    "size_large": "large",
    "data_split": "{train:,} images for training, {val:,} for validation ({how}).",
    "val_source_folder": "from the dataset's own val/ folder",
    "val_source_split": "a random {pct}% of each class set aside",
    "data_counts": "**Training images per class**",
    "data_samples": "**Examples of each class**",
    "skipped_title": "Skipped files ({n})",
    "skipped_none": "Every file could be used.",
    "col_file": "File",
    "col_reason": "Reason",
    "col_detail": "Detail",
    "data_next": "Next: the decision map →",
    "warn_zip_name_encoding": "The file names in this zip are not marked as UTF-8; they were read as {encoding}, e.g. "
                              "'{example}'. If class names look wrong, re-create the zip with a tool that writes UTF-8 "
                              "names (7-Zip, or zip on macOS/Linux).",
    "warn_merged_classes": "Folders whose names differ only in Unicode form (as macOS writes them) were merged into one "
                           "class: {classes}.",
    "warn_imbalance": "The classes are imbalanced: '{max_class}' has {max_count} images but '{min_class}' only "
                      "{min_count} ({ratio}×). Accuracy can look good while the small class is mostly wrong.",
    "warn_tiny_class": "Very small classes (fewer than {threshold} images): {classes}. Add images if you can.",
    "warn_small_images": "The images are small (typical short side {median_min_side} px, under {threshold} px); "
                         "they are enlarged for the network, which blurs them.",
    "warn_empty_folder": "Empty folders were ignored: {folders}.",
    "warn_val_missing_class": "The val/ folder has no images of: {classes}. Their accuracy cannot be measured.",
    "warn_other": "Note about the data ({code}): {params}",
    "skip_empty_file": "empty file",
    "skip_not_an_image": "not an image",
    "skip_unreadable": "cannot be read",
    "skip_truncated": "incomplete (truncated)",
    "skip_too_many_pixels": "too large",
    "skip_unsupported_type": "unsupported file type",
    "dataset_caption": "Data: {label} · {images:,} images · {classes} classes · {ipc:,.0f} training images per class",
    "metric_per_class_help": "Images the model trains on, per class on average; the validation images are set aside and not counted.",
    "size_from_training": "The map counts {n:,.0f} training images per class (validation images are not counted).",
    "size_from_smallest": "The classes are imbalanced, so the map counts the smallest class: '{cls}' has {n:,.0f} training images (the average is {mean:,.0f}). Retraining layers overfits the class with the fewest images first.",
    "data_samples_more": "… and {n} more classes.",
    "upload_help": "Only .zip files. Up to the server's upload limit (200 MB unless the administrator changed it).",
    "upload_current": "Using {name}, uploaded earlier. Upload another .zip to replace it.",
    "data_opening": "Opening the dataset named in the link...",
    "dataset_gone": "The dataset in this link could not be opened: {error} The built-in lab dataset is shown instead.",
}

KO = {
    "data_title": "1 · 데이터",
    "data_intro": "학습할 이미지를 고르세요. 내장 실험실은 색칠된 도형 이미지를 그 자리에서 만들어 냅니다. "
                  "다이얼은 두 개입니다: 클래스당 이미지 수, 그리고 실험실 신경망(labnet)이 사전 학습한 세계와 "
                  "얼마나 비슷해 보이는지.",
    "data_source": "이미지를 어디서 가져올까요?",
    "source_lab": "내장 실험실 (오프라인)",
    "source_photos": "내장 실제 사진 (오프라인)",
    "photos_explain": "실제 사진 두 클래스, **사람**과 **사람 없음**입니다. 설치된 패키지(scikit-image, scikit-learn, "
                      "matplotlib)에 함께 들어 있는 사진 {n}장을 잘라 만들었습니다(퍼블릭 도메인 또는 CC 라이선스, README에 "
                      "목록이 있습니다). 검증에는 학습에 전혀 쓰이지 않은 사진 두 장을 쓰므로 정확도를 그대로 믿을 수 있습니다. "
                      "원본 사진이 적어 시연용이지 벤치마크는 아닙니다. 오프라인에서도 쓸 수 있는 실제 ImageNet 신경망인 "
                      "efficientnet_lite0과 함께 써 보세요.",
    "source_upload": ".zip 올리기",
    "source_folder": "서버의 폴더",
    "lab_per_class": "클래스당 학습 이미지 수",
    "lab_per_class_help": "크기 다이얼입니다. 클래스당 1,000장 이상이면 많은 편으로 봅니다.",
    "lab_similarity": "사전 학습 세계와의 유사도",
    "lab_similarity_help": "1: labnet이 배운 것과 같은 종류의 그림(새로운 도형), 0: 아주 다른 세계(회색, 무늬, 색 경계 없음).",
    "lab_explain": "도형 클래스 6개, 32×32 픽셀, 그리고 클래스당 검증 이미지 {val}장. 아무것도 다운로드하지 않습니다.",
    "lab_preparing": "실험실 이미지를 그리는 중... (이 다이얼 값으로는 처음 한 번만)",
    "lab_label": "실험실 (유사도 {s:.2f}, 클래스당 {n}장)",
    "upload_explain": "클래스마다 하위 폴더가 하나씩 있는 폴더를 압축한 .zip (예: cats/1.jpg, dogs/1.jpg). "
                      "train/과 val/로 나누어 두어도 됩니다.",
    "upload_label": "데이터셋 (.zip)",
    "upload_checking": "이미지를 하나씩 확인하는 중...",
    "folder_none": "사용할 수 있는 데이터 폴더가 없습니다. 서버 관리자가 다음 위치에 넣을 수 있습니다: {roots}.",
    "folder_label": "데이터 폴더",
    "folder_help": "서버에 설정된 데이터 루트(TLCORE_DATA_ROOTS) 안의 폴더만 보입니다.",
    "data_summary": "{label}에 들어 있는 것",
    "metric_classes": "클래스",
    "metric_images": "쓸 수 있는 이미지",
    "metric_per_class": "클래스당 학습 이미지",
    "metric_size": "크기",
    "metric_size_help_measured": "클래스당 학습 이미지가 {n:,.0f}장 이상이면 큼: {model}에 대해 측정한 크기 경계입니다 "
                                 "(결정 지도 참고).",
    "metric_size_help_rule_of_thumb": "클래스당 학습 이미지가 {n:,.0f}장 이상이면 큼: {model}처럼 ImageNet 규모의 "
                                      "신경망에 쓰는 경험칙입니다.",
    "size_small": "적음",
    "size_large": "많음",
    "data_split": "학습용 {train:,}장, 검증용 {val:,}장 ({how}).",
    "val_source_folder": "데이터셋의 val/ 폴더 사용",
    "val_source_split": "클래스마다 무작위 {pct}%를 따로 떼어 둠",
    "data_counts": "**클래스별 학습 이미지 수**",
    "data_samples": "**클래스별 예시**",
    "skipped_title": "건너뛴 파일 ({n})",
    "skipped_none": "모든 파일을 쓸 수 있습니다.",
    "col_file": "파일",
    "col_reason": "이유",
    "col_detail": "자세히",
    "data_next": "다음: 결정 지도 →",
    "warn_zip_name_encoding": "이 zip의 파일 이름은 UTF-8로 표시되어 있지 않아 {encoding}(으)로 읽었습니다 (예: "
                              "'{example}'). 클래스 이름이 깨져 보이면 UTF-8 이름을 쓰는 도구(7-Zip, macOS/Linux의 zip)로 "
                              "zip을 다시 만드세요.",
    "warn_merged_classes": "유니코드 표기 방식만 다른 같은 이름의 폴더(macOS 방식)를 한 클래스로 합쳤습니다: {classes}.",
    "warn_imbalance": "클래스 불균형: '{max_class}'는 {max_count}장인데 '{min_class}'는 {min_count}장뿐입니다 "
                      "({ratio}배). 작은 클래스를 대부분 틀려도 정확도는 좋아 보일 수 있습니다.",
    "warn_tiny_class": "이미지가 아주 적은 클래스({threshold}장 미만): {classes}. 가능하면 이미지를 더 넣으세요.",
    "warn_small_images": "이미지가 작습니다 (짧은 변이 보통 {median_min_side}픽셀로 {threshold}픽셀 미만). "
                         "신경망에 맞게 확대하면서 흐려집니다.",
    "warn_empty_folder": "빈 폴더는 무시했습니다: {folders}.",
    "warn_val_missing_class": "val/ 폴더에 다음 클래스의 이미지가 없습니다: {classes}. 이 클래스의 정확도는 잴 수 없습니다.",
    "warn_other": "데이터 참고 사항 ({code}): {params}",
    "skip_empty_file": "빈 파일",
    "skip_not_an_image": "이미지가 아님",
    "skip_unreadable": "읽을 수 없음",
    "skip_truncated": "파일이 잘림",
    "skip_too_many_pixels": "너무 큼",
    "skip_unsupported_type": "지원하지 않는 형식",
    "dataset_caption": "데이터: {label} · 이미지 {images:,}장 · 클래스 {classes}개 · 클래스당 학습 이미지 {ipc:,.0f}장",
    "metric_per_class_help": "모델이 학습에 쓰는 클래스당 평균 이미지 수입니다. 따로 떼어 둔 검증 이미지는 세지 않습니다.",
    "size_from_training": "지도는 클래스당 학습 이미지 {n:,.0f}장으로 셉니다 (검증 이미지는 세지 않습니다).",
    "size_from_smallest": "클래스 불균형이 있어 지도는 가장 작은 클래스로 셉니다: '{cls}'의 학습 이미지는 {n:,.0f}장입니다 (평균 {mean:,.0f}장). 층을 재학습하면 이미지가 가장 적은 클래스부터 과적합됩니다.",
    "data_samples_more": "… 그리고 클래스 {n}개 더.",
    "upload_help": ".zip 파일만 올릴 수 있습니다. 서버의 업로드 한도(관리자가 바꾸지 않았다면 200 MB)까지 가능합니다.",
    "upload_current": "앞서 올린 {name}을(를) 쓰고 있습니다. 다른 .zip을 올리면 바뀝니다.",
    "data_opening": "링크에 적힌 데이터셋을 여는 중...",
    "dataset_gone": "이 링크의 데이터셋을 열 수 없습니다: {error} 대신 내장 실험실 데이터를 보여 줍니다.",
}
