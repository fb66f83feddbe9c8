"""Beyond the four quadrants: the research plans, the third question, the gradient probe, the estimators (English and Korean)."""

EN = {
    # The research plans (labels for every list that shows plans).
    "plan_surgical": "surgical: one block + output layer",
    "plan_surgical_block": "surgical: {group} + output layer",
    "plan_lp-ft": "lp-ft: output layer first, then everything",
    "plan_auto-rgn": "auto-rgn: everything, rates by gradient",
    "plan_full-frozen-bn": "full-frozen-bn: everything, BatchNorm statistics kept",
    "block_label": "Block to tune (surgical)",
    "block_help": "first: the layer that sees the pixels; last: the last stage; middle: halfway. Only this block "
                  "and the new output layer train.",
    "block_first": "first ({group})",
    "block_middle": "middle ({group})",
    "block_last": "last ({group})",
    "lr_decay_label": "Learning-rate decay per group",
    "lr_decay_help": "Discriminative fine-tuning (ULMFiT): each lower trained group learns at the rate of the one "
                     "above divided by this number. 1 = one rate for the whole body; ULMFiT used 2.6.",
    "bn_label": "BatchNorm in trained layers",
    "bn_help": "train: statistics follow the new data. frozen: statistics stay as pretrained (the Keras guide's "
               "advice when unfreezing), so the first updates cannot wreck them.",
    "bn_train": "update statistics",
    "bn_frozen": "keep pretrained statistics",
    "research_options": "Research plans' options",
    "phase_linear_probe": "linear probe",
    "phase_fine_tune": "fine-tuning",
    # The third question.
    "map_q3": "**Question 3 (optional). What is different from the pretraining images?**",
    "shift_label": "Mainly...",
    "shift_none": "Not sure (skip this question)",
    "shift_look": "How they look",
    "shift_look_example": "colour, blur, noise, another camera or style; the same kinds of objects",
    "shift_objects": "The objects themselves",
    "shift_objects_example": "new kinds, varieties or parts of objects, seen the usual way",
    "shift_labels": "What the labels depend on",
    "shift_labels_example": "the same pictures sorted by another property, or a cue that misleads",
    "shift_title": "Refined by question 3: {plan}",
    "shift_title_keep": "Refined by question 3: keep {plan}, or tune only {group}",
    "shift_why_look": "A difference in how the images look (an input-level shift) enters at the pixels, so the first "
                      "block, the one that sees them, is the one that no longer fits; the later layers can stay as they are.",
    "shift_why_objects": "New objects or parts (a feature-level shift) change the mid-level features that combine edges "
                         "into parts, so a middle block ({group}) is the one to adapt.",
    "shift_why_labels": "When the labels depend on something else (an output-level shift), the features are still right "
                        "and only how they are combined into an answer must change: the last block ({group}).",
    "shift_evidence_look": "Evidence: on image corruptions (CIFAR-10-C, ImageNet-C), Lee et al. (ICLR 2023) found that "
                           "tuning only the first block matched or beat fine-tuning the whole network. In this app's "
                           "lab, tuning the first block wins on noisy, recoloured images of the pretraining shapes.",
    "shift_evidence_objects": "Evidence: on new sub-populations of the same classes (Living-17, Entity-30), Lee et al. "
                              "(ICLR 2023) found the middle blocks best to tune.",
    "shift_evidence_labels": "Evidence: on relabelled data and spurious cues (CIFAR-Flip, Waterbirds, CelebA), Lee et al. "
                             "(ICLR 2023) found tuning only the last layers best. In this app's lab, tuning the last "
                             "block wins when the same images are labelled by another property.",
    "shift_plan_small": "With little data, tuning one block (and a new output layer) keeps what pretraining learned "
                        "elsewhere: train surgical with the {block} block ({group}), and compare it with the map's plan.",
    "shift_plan_large": "With this much data, fine-tuning more layers is affordable, so the map's plan stays; tuning "
                        "only {group} (surgical, {block} block) is the cheaper alternative to compare.",
    "shift_train": "Train surgical ({group}) →",
    # The gradient probe.
    "probe_title": "**Which layers want to move?** (gradient probe)",
    "probe_intro": "A new output layer is warmed up on the frozen features; then a few batches of backward passes, "
                   "without any update, measure each group's relative gradient norm |gradient| / |weights|: how much "
                   "the data asks each group to change, for its size.",
    "probe_button": "Run the gradient probe",
    "probe_running": "Probing the gradients...",
    "probe_caption": "{images} images, {batches} batches, {seconds:.1f} s. Each pair of bars: your data and the "
                     "backbone's pretraining images (with labels that carry no pattern); ×N is their ratio. The head is "
                     "shown for reference; the suggestion compares the blocks only.",
    "probe_suggest_early": "Compared with the pretraining images, the first block ({group}) is asked to move far more "
                           "than the last: the difference enters at the pixels (how the images look). Try surgical with "
                           "the first block.",
    "probe_suggest_middle": "Compared with the pretraining images, a middle block ({group}) is asked to move more than "
                            "either end: try surgical with that block.",
    "probe_suggest_even": "Compared with the pretraining images, the first block is asked to move no more than the last: "
                          "the difference does not enter at the pixels, so it is likely in what the labels depend on. "
                          "Try surgical with the last block ({group}).",
    "probe_no_block": "No block has parameters to probe.",
    "probe_axis_group": "Layer group (input → output)",
    "probe_axis_rgn": "Relative gradient norm",
    "probe_head": "head (reference)",
    "probe_data_series": "your data",
    "probe_ref_series": "pretraining images",
    "probe_no_reference": "The app has no pretraining images of {model} to compare with, so the chart shows the raw "
                          "ratios only; they fall with depth in any network, so read the third question's answer "
                          "rather than the highest bar.",
    # The transferability estimators.
    "transfer_title": "**How well will this backbone transfer?** (estimators)",
    "transfer_button": "Run the estimators",
    "transfer_running": "Computing the estimators...",
    "transfer_knn": "k-NN score",
    "transfer_logme": "LogME",
    "transfer_lp": "Linear probe",
    "transfer_knn_help": "Normalized k-NN accuracy on frozen features (the map's similarity). The most reliable of 23 "
                         "estimators in Sorkhei et al. (2025).",
    "transfer_logme_help": "Evidence of a Bayesian linear model on the features (You et al., ICML 2021). Higher is "
                           "better; compare values on one backbone only.",
    "transfer_lp_help": "Validation accuracy of a new output layer trained on the frozen features: what the head plan "
                        "would reach without augmentation.",
    "transfer_cost": "{seconds:.2f} s",
    "transfer_cost_features": "{seconds:.2f} s (+ {features:.1f} s for the features, shared)",
    "transfer_trust": "Which to trust: across {cells} lab datasets, how well each estimator ranked them by the best "
                      "fine-tuned accuracy (Spearman correlation, 1 = perfect order): {scores}.",
    "transfer_no_record": "The lab's comparison of the estimators has not been run on this installation "
                          "(python -m tlcore lab estimators --save).",
}

KO = {
    "plan_surgical": "surgical: 블록 하나 + 출력층",
    "plan_surgical_block": "surgical: {group} + 출력층",
    "plan_lp-ft": "lp-ft: 출력층 먼저, 그다음 전체",
    "plan_auto-rgn": "auto-rgn: 전체, 기울기에 따른 학습률",
    "plan_full-frozen-bn": "full-frozen-bn: 전체, BatchNorm 통계는 그대로",
    "block_label": "조정할 블록 (surgical)",
    "block_help": "first: 픽셀을 직접 보는 층, last: 마지막 단계, middle: 그 중간. 이 블록과 새 출력층만 학습합니다.",
    "block_first": "처음 ({group})",
    "block_middle": "중간 ({group})",
    "block_last": "마지막 ({group})",
    "lr_decay_label": "그룹별 학습률 감소 비율",
    "lr_decay_help": "구별적 미세 조정(ULMFiT): 아래쪽 그룹은 바로 위 그룹의 학습률을 이 수로 나눈 값으로 학습합니다. "
                     "1이면 본체 전체가 같은 학습률을 씁니다. ULMFiT는 2.6을 썼습니다.",
    "bn_label": "학습하는 층의 BatchNorm",
    "bn_help": "train: 통계가 새 데이터를 따라갑니다. frozen: 통계를 사전 학습된 값으로 유지합니다(동결을 풀 때 Keras "
               "안내서가 권하는 방법). 그래서 처음 몇 번의 갱신이 통계를 망가뜨리지 못합니다.",
    "bn_train": "통계 갱신",
    "bn_frozen": "사전 학습된 통계 유지",
    "research_options": "연구 계획의 옵션",
    "phase_linear_probe": "선형 탐침",
    "phase_fine_tune": "미세 조정",
    "map_q3": "**질문 3 (선택). 사전 학습 이미지와 무엇이 다른가요?**",
    "shift_label": "주로...",
    "shift_none": "잘 모르겠음 (이 질문 건너뛰기)",
    "shift_look": "보이는 모습",
    "shift_look_example": "색, 흐림, 잡음, 다른 카메라나 화풍. 대상의 종류는 같음",
    "shift_objects": "대상 자체",
    "shift_objects_example": "평소처럼 찍었지만 새로운 종류, 품종, 부분의 대상",
    "shift_labels": "레이블이 정해지는 기준",
    "shift_labels_example": "같은 사진을 다른 성질로 분류하거나, 오해를 부르는 단서가 있음",
    "shift_title": "질문 3으로 다듬은 계획: {plan}",
    "shift_title_keep": "질문 3으로 다듬은 계획: {plan}을(를) 유지하거나 {group}만 조정",
    "shift_why_look": "이미지가 보이는 모습의 차이(입력 수준의 변화)는 픽셀에서 들어오므로, 픽셀을 직접 보는 첫 블록이 맞지 "
                      "않게 됩니다. 뒤쪽 층은 그대로 두어도 됩니다.",
    "shift_why_objects": "새로운 대상이나 부분(특징 수준의 변화)은 가장자리를 부분으로 엮는 중간 수준의 특징을 바꾸므로, "
                         "중간 블록({group})을 조정해야 합니다.",
    "shift_why_labels": "레이블이 다른 것에 따라 정해지면(출력 수준의 변화) 특징은 여전히 맞고, 특징을 답으로 엮는 방식만 "
                        "바뀌어야 합니다: 마지막 블록({group}).",
    "shift_evidence_look": "근거: 이미지 손상(CIFAR-10-C, ImageNet-C)에서 Lee 외(ICLR 2023)는 첫 블록만 조정해도 신경망 "
                           "전체를 미세 조정한 것과 같거나 더 좋았다고 보고했습니다. 이 앱의 실험실에서도 사전 학습 도형을 "
                           "잡음과 색 변화로 바꾼 이미지에서는 첫 블록 조정이 이깁니다.",
    "shift_evidence_objects": "근거: 같은 클래스의 새로운 하위 집단(Living-17, Entity-30)에서 Lee 외(ICLR 2023)는 중간 "
                              "블록을 조정하는 것이 가장 좋았다고 보고했습니다.",
    "shift_evidence_labels": "근거: 레이블을 바꾼 데이터와 잘못된 단서(CIFAR-Flip, Waterbirds, CelebA)에서 Lee 외(ICLR "
                             "2023)는 마지막 층만 조정하는 것이 가장 좋았다고 보고했습니다. 이 앱의 실험실에서도 같은 "
                             "이미지를 다른 성질로 분류하면 마지막 블록 조정이 이깁니다.",
    "shift_plan_small": "데이터가 적을 때는 블록 하나(와 새 출력층)만 조정해야 사전 학습이 다른 곳에서 배운 것을 지킬 수 "
                        "있습니다: {block} 블록({group})으로 surgical을 학습하고 지도의 계획과 비교해 보세요.",
    "shift_plan_large": "데이터가 이만큼 많으면 더 많은 층을 미세 조정해도 되므로 지도의 계획을 유지합니다. {group}만 "
                        "조정하는 surgical({block} 블록)은 비교해 볼 만한 더 가벼운 대안입니다.",
    "shift_train": "학습하기: surgical ({group}) →",
    "probe_title": "**어느 층이 움직이고 싶어 하나요?** (기울기 탐침)",
    "probe_intro": "동결된 특징 위에서 새 출력층을 잠깐 학습시킨 뒤, 가중치를 갱신하지 않고 몇 배치만 역전파하여 그룹마다 "
                   "상대 기울기 크기 |기울기| / |가중치|를 잽니다: 데이터가 각 그룹에게 크기에 비해 얼마나 바뀌라고 "
                   "요구하는지입니다.",
    "probe_button": "기울기 탐침 실행",
    "probe_running": "기울기를 재는 중...",
    "probe_caption": "이미지 {images}장, 배치 {batches}개, {seconds:.1f}초. 막대 한 쌍은 내 데이터와 백본의 사전 학습 "
                     "이미지(규칙 없는 레이블)이며, ×N은 그 비율입니다. 출력층은 참고로만 보여 주며, 제안은 블록들만 "
                     "비교합니다.",
    "probe_suggest_early": "사전 학습 이미지와 비교하면 첫 블록({group})이 마지막 블록보다 훨씬 많이 움직이라는 요구를 "
                           "받습니다: 차이가 픽셀에서(이미지가 보이는 모습에서) 들어옵니다. 첫 블록으로 surgical을 해 보세요.",
    "probe_suggest_middle": "사전 학습 이미지와 비교하면 중간 블록({group})이 양 끝보다 더 많이 움직이라는 요구를 받습니다: "
                            "그 블록으로 surgical을 해 보세요.",
    "probe_suggest_even": "사전 학습 이미지와 비교하면 첫 블록이 마지막 블록보다 더 움직이라는 요구를 받지 않습니다: 차이가 "
                          "픽셀에서 들어오지 않으므로 레이블이 정해지는 기준에 있을 가능성이 큽니다. 마지막 블록({group})으로 "
                          "surgical을 해 보세요.",
    "probe_no_block": "탐침할 파라미터가 있는 블록이 없습니다.",
    "probe_axis_group": "층 그룹 (입력 → 출력)",
    "probe_axis_rgn": "상대 기울기 크기",
    "probe_head": "출력층 (참고)",
    "probe_data_series": "내 데이터",
    "probe_ref_series": "사전 학습 이미지",
    "probe_no_reference": "이 앱에는 {model}의 사전 학습 이미지가 없어 비교할 수 없으므로, 그래프는 원래의 비율만 보여 "
                          "줍니다. 이 비율은 어떤 신경망에서든 깊어질수록 작아지므로, 가장 높은 막대보다 세 번째 질문의 "
                          "답을 따르세요.",
    "transfer_title": "**이 백본은 얼마나 잘 전이될까요?** (추정 지표)",
    "transfer_button": "추정 지표 계산",
    "transfer_running": "추정 지표를 계산하는 중...",
    "transfer_knn": "k-NN 점수",
    "transfer_logme": "LogME",
    "transfer_lp": "선형 탐침",
    "transfer_knn_help": "동결된 특징에서 정규화한 k-NN 정확도(지도의 유사도)입니다. Sorkhei 외(2025)가 비교한 추정 지표 "
                         "23가지 중 가장 믿을 만했습니다.",
    "transfer_logme_help": "특징 위의 베이즈 선형 모델의 증거값입니다(You 외, ICML 2021). 높을수록 좋으며, 같은 백본끼리만 "
                           "비교하세요.",
    "transfer_lp_help": "동결된 특징 위에서 학습한 새 출력층의 검증 정확도입니다: head 계획이 증강 없이 도달할 값입니다.",
    "transfer_cost": "{seconds:.2f}초",
    "transfer_cost_features": "{seconds:.2f}초 (+ 특징 계산 {features:.1f}초, 공유)",
    "transfer_trust": "무엇을 믿을까: 실험실 데이터셋 {cells}개를 가장 좋은 미세 조정 정확도 순으로 얼마나 잘 줄 세웠는지 "
                      "(스피어만 상관, 1이면 완벽한 순서): {scores}.",
    "transfer_no_record": "이 설치본에서는 실험실의 추정 지표 비교를 아직 실행하지 않았습니다 "
                          "(python -m tlcore lab estimators --save).",
}
