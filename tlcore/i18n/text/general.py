"""General texts, the home page and the quadrant labels, in English and Korean."""

EN = {
    "app_name": "Transfer Learning Decision Map",
    "lang_label": "Language",
    "sidebar_hint": "Steps: Data → Decision map → Train → Compare → Predict. Runs keep going when you close the tab.",
    "unexpected_error": "Something went wrong ({kind}). The details were written to the server log; try again, or reload the page.",
    "page_home": "Home",
    "page_data": "Data",
    "page_map": "Decision map",
    "page_train": "Train",
    "page_compare": "Compare",
    "page_predict": "Predict",
    "page_runs": "Runs",
    "home_title": "How much of a pretrained network should you freeze?",
    "home_intro": "A network trained on millions of images already knows how to see edges, textures and shapes. "
                  "This app helps you decide how much of that knowledge to keep as it is and how much to retrain "
                  "for your own images, and then proves the decision with a live training run.",
    "home_tl_title": "Transfer learning",
    "home_tl_body": "Take what a model learned on one task and reuse it on a related one. In practice: take a "
                    "pretrained network, remove its last (output) layer and attach a new output layer with one "
                    "output per class of your problem.",
    "home_ft_title": "Fine-tuning",
    "home_ft_body": "Retrain some or all of the pretrained layers, starting from the pretrained weights instead of "
                    "random ones. It can cover the whole network or only its last layers.",
    "home_frozen_title": "Frozen layers and retrained layers",
    "home_frozen_body": "- **Frozen layers** keep their pretrained weights: they are used as they are and not "
                        "trained again. Early layers (edges, colours, textures) are useful for almost any images.\n"
                        "- **Retrained layers** start from the pretrained weights (or from a new layer) and are "
                        "trained on your data. Later layers are more specific to the original task.\n\n"
                        "Freezing everything but a new output layer needs very little data; retraining more layers "
                        "can fit new kinds of images better but needs more data, or it overfits.",
    "home_map_title": "The size-similarity map",
    "home_map_body": "Two questions decide the plan: **how much data do you have** (images per class, across; "
                     "the boundary is {large:,} per class) and **how similar are your images to what the network "
                     "learned from** (up). Each quadrant has its own answer.",
    "q1_title": "Quadrant 1 · large, different",
    "q1_body": "Plenty of data, unlike the pretraining data. Fine-tune the whole network, starting from the "
               "pretrained weights: even an unrelated start usually beats random weights.",
    "q2_title": "Quadrant 2 · large, similar",
    "q2_body": "The best case. Retrain the output-side layers (the last stage and the output layer), or fine-tune "
               "the full network.",
    "q3_title": "Quadrant 3 · small, different",
    "q3_body": "The hardest case. Freeze the early, generic layers and retrain the later ones; too few trained "
               "layers underfit, too many overfit. Use data augmentation.",
    "q4_title": "Quadrant 4 · small, similar",
    "q4_body": "Remove the old output layer, freeze the rest and train only a new output layer. Fine-tuning more "
               "would overfit the few images.",
    "home_start_title": "Where to start",
    "home_start_body": "1. **Data**: the built-in lab dataset is ready (no download); set its size and similarity, or upload a .zip of your own.\n"
                       "2. **Decision map**: answer the two questions and see the recommended plan.\n"
                       "3. **Train**: start a run and watch its accuracy live.\n"
                       "4. **Compare**: run every plan on the same data and check whether the map was right.",
    "home_start": "Start with the data →",
    "q1_short": "large, different",
    "q2_short": "large, similar",
    "q3_short": "small, different",
    "q4_short": "small, similar",
    "q1_plan": "fine-tune everything",
    "q2_plan": "retrain the top layers",
    "q3_plan": "retrain half + augment",
    "q4_plan": "new output layer only",
    "map_hover": "Quadrant {q}: {name}<br>click: what if my data were here?",
    "map_you": "your data",
    "map_marker_hover": "Your data: {ipc:,.0f} images per class, similarity {sim:.2f}",
    "map_x": "Images per class (log scale)",
    "map_y": "Similarity to the pretraining data",
}

KO = {
    "app_name": "전이학습 결정 지도",
    "lang_label": "언어",
    "sidebar_hint": "순서: 데이터 → 결정 지도 → 학습 → 비교 → 예측. 탭을 닫아도 학습은 계속됩니다.",
    "unexpected_error": "문제가 생겼습니다 ({kind}). 자세한 내용은 서버 로그에 남겼습니다. 다시 시도하거나 페이지를 새로 고치세요.",
    "page_home": "처음",
    "page_data": "데이터",
    "page_map": "결정 지도",
    "page_train": "학습",
    "page_compare": "비교",
    "page_predict": "예측",
    "page_runs": "실행 기록",
    "home_title": "사전 학습된 신경망을 얼마나 동결해야 할까요?",
    "home_intro": "수백만 장의 이미지로 학습된 신경망은 이미 가장자리, 질감, 모양을 보는 법을 알고 있습니다. "
                  "이 앱은 그 지식을 얼마나 그대로 쓰고 얼마나 내 이미지에 맞게 재학습할지 정하도록 돕고, "
                  "실제 학습을 실시간으로 돌려 그 결정을 확인합니다.",
    "home_tl_title": "전이학습 (Transfer learning)",
    "home_tl_body": "한 문제에서 배운 지식을 관련된 다른 문제에 다시 쓰는 방법입니다. 실제로는 사전 학습된 신경망에서 "
                    "마지막 층(출력층)을 떼어 내고, 내 문제의 클래스 수만큼 출력을 가진 새 출력층을 붙입니다.",
    "home_ft_title": "미세 조정 (Fine-tuning)",
    "home_ft_body": "사전 학습된 가중치를 무작위 값 대신 초기값으로 삼아 층을 다시 학습하는 방법입니다. "
                    "신경망 전체를 재학습할 수도 있고 마지막 몇 층만 재학습할 수도 있습니다.",
    "home_frozen_title": "동결층과 재학습 층",
    "home_frozen_body": "- **동결층**(Freeze)은 사전 학습된 가중치를 그대로 유지합니다. 다시 학습하지 않고 그대로 씁니다. "
                        "앞쪽 층(가장자리, 색, 질감)은 거의 모든 이미지에 쓸모가 있습니다.\n"
                        "- **재학습 층**은 사전 학습된 가중치(또는 새로 붙인 층)에서 출발해 내 데이터로 학습합니다. "
                        "뒤쪽 층일수록 원래 문제에 특화되어 있습니다.\n\n"
                        "새 출력층만 남기고 모두 동결하면 데이터가 아주 적어도 되고, 더 많은 층을 재학습하면 "
                        "새로운 종류의 이미지에 더 잘 맞출 수 있지만 데이터가 더 필요합니다. 부족하면 과적합됩니다.",
    "home_map_title": "크기-유사도 지도",
    "home_map_body": "두 가지 질문이 계획을 정합니다. **데이터가 얼마나 많은가** (클래스당 이미지 수, 가로축; "
                     "경계는 클래스당 {large:,}장)와 **내 이미지가 신경망이 배운 데이터와 얼마나 비슷한가** (세로축). "
                     "사분면마다 답이 다릅니다.",
    "q1_title": "사분면 1 · 많음, 다름",
    "q1_body": "데이터는 많지만 사전 학습 데이터와 다릅니다. 사전 학습된 가중치에서 출발해 신경망 전체를 미세 조정합니다. "
               "관련이 적은 가중치라도 무작위 초기값보다 대개 낫습니다.",
    "q2_title": "사분면 2 · 많음, 비슷함",
    "q2_body": "가장 좋은 경우입니다. 출력층 쪽 층들(마지막 단계와 출력층)을 재학습하거나, 전체 신경망을 미세 조정합니다.",
    "q3_title": "사분면 3 · 적음, 다름",
    "q3_body": "가장 어려운 경우입니다. 앞쪽의 일반적인 층은 동결하고 뒤쪽 층을 재학습합니다. 학습하는 층이 너무 적으면 "
               "제대로 배우지 못하고, 너무 많으면 과적합됩니다. 데이터 증강을 쓰세요.",
    "q4_title": "사분면 4 · 적음, 비슷함",
    "q4_body": "기존 출력층을 떼고 나머지는 동결한 채 새 출력층만 학습합니다. 더 많이 미세 조정하면 적은 이미지에 과적합됩니다.",
    "home_start_title": "어디서 시작할까요",
    "home_start_body": "1. **데이터**: 내장 실험실 데이터가 준비되어 있습니다(다운로드 없음). 크기와 유사도를 정하거나 직접 만든 .zip을 올리세요.\n"
                       "2. **결정 지도**: 두 질문에 답하고 추천 계획을 확인합니다.\n"
                       "3. **학습**: 학습을 시작하고 정확도를 실시간으로 봅니다.\n"
                       "4. **비교**: 같은 데이터로 모든 계획을 돌려 지도가 맞았는지 확인합니다.",
    "home_start": "데이터부터 시작하기 →",
    "q1_short": "많음, 다름",
    "q2_short": "많음, 비슷함",
    "q3_short": "적음, 다름",
    "q4_short": "적음, 비슷함",
    "q1_plan": "전체 미세 조정",
    "q2_plan": "위쪽 층 재학습",
    "q3_plan": "절반 재학습 + 증강",
    "q4_plan": "새 출력층만 학습",
    "map_hover": "사분면 {q}: {name}<br>클릭: 내 데이터가 여기 있다면?",
    "map_you": "내 데이터",
    "map_marker_hover": "내 데이터: 클래스당 {ipc:,.0f}장, 유사도 {sim:.2f}",
    "map_x": "클래스당 이미지 수 (로그 눈금)",
    "map_y": "사전 학습 데이터와의 유사도",
}
