"""The compare page, in English and Korean."""

EN = {
    "compare_title": "4 · Compare plans",
    "compare_intro": "Train several plans on the same data and backbone. They run one after another (queued), "
                     "and their validation curves share one chart.",
    "compare_model": "backbone {model} · the map says quadrant {q}: {plan}",
    "compare_plans": "Plans",
    "compare_lab_recipe": "Use the lab experiment's recipe for each plan",
    "compare_lab_recipe_epochs": "Epochs per plan: {epochs}. More images per class make each epoch longer.",
    "compare_lab_recipe_help": "Each plan trains as in `python -m tlcore lab experiment`: its own epochs, batch "
                               "size and learning rates (a new output layer at 0.01, retrained pretrained layers "
                               "at 0.003), with augmentation on small data. The chart then shows what the "
                               "experiment measured. Turn it off to set the epochs yourself.",
    "compare_start": "Run the comparison",
    "compare_unknown": "No runs found for comparison {group}.",
    "compare_row_queued": "{plan}: queued (place {pos})",
    "compare_row_running": "{plan}: running, {epochs} epoch(s) done",
    "col_plan": "Plan",
    "col_status": "Status",
    "col_best": "Best accuracy",
    "col_time": "Time",
    "col_trainable": "Trained parameters",
    "seconds": "{s:.0f} s",
    "verdict_pending": "The verdict comes when every run has finished.",
    "verdict_not_run": "The recommended plan ({plan}) is not among the finished runs, so the map cannot be checked.",
    "verdict_no_map": "These runs were not started from the map, so there is no recommendation to check.",
    "verdict_agree_best": "The experiment agrees with the map: the recommended plan, {plan}, reached the best "
                          "validation accuracy ({acc:.1f}%).",
    "verdict_agree_close": "The experiment agrees with the map: the recommended plan, {plan} ({acc:.1f}%), is within "
                           "{tol:.0f} points of the best, {best_plan} ({best_acc:.1f}%).",
    "verdict_disagree": "The experiment disagrees with the map: {best_plan} reached {best_acc:.1f}%, {gap:.1f} points "
                        "above the recommended {plan} ({acc:.1f}%). Near a boundary, with few epochs or a small "
                        "validation set this can happen; try more epochs.",
    "compare_none": "Choose plans and press Run the comparison.",
    "compare_next": "Next: try a model on images →",
    "col_balanced": "Balanced accuracy",
}

KO = {
    "compare_title": "4 · 계획 비교",
    "compare_intro": "같은 데이터와 백본으로 여러 계획을 학습합니다. 차례로(대기열) 실행되며 검증 곡선을 한 차트에 겹쳐 보여 줍니다.",
    "compare_model": "백본 {model} · 지도의 답은 사분면 {q}: {plan}",
    "compare_plans": "계획",
    "compare_lab_recipe": "계획마다 실험실 실험의 학습 설정 사용",
    "compare_lab_recipe_epochs": "계획별 에포크 수: {epochs}. 클래스당 이미지가 많을수록 에포크마다 시간이 더 걸립니다.",
    "compare_lab_recipe_help": "각 계획을 `python -m tlcore lab experiment`와 똑같이 학습합니다: 계획별 에포크 수, "
                               "배치 크기, 학습률(새 출력층 0.01, 다시 학습하는 사전학습 층 0.003), 작은 데이터에는 "
                               "데이터 증강. 그래서 차트가 실험의 측정 결과를 그대로 보여 줍니다. 끄면 에포크 수를 "
                               "직접 정할 수 있습니다.",
    "compare_start": "비교 실행",
    "compare_unknown": "비교 {group}의 실행을 찾을 수 없습니다.",
    "compare_row_queued": "{plan}: 대기 중 ({pos}번째)",
    "compare_row_running": "{plan}: 학습 중, 에포크 {epochs}개 완료",
    "col_plan": "계획",
    "col_status": "상태",
    "col_best": "최고 정확도",
    "col_time": "시간",
    "col_trainable": "학습한 파라미터",
    "seconds": "{s:.0f}초",
    "verdict_pending": "모든 실행이 끝나면 결론을 보여 줍니다.",
    "verdict_not_run": "추천 계획({plan})이 끝난 실행 중에 없어서 지도를 확인할 수 없습니다.",
    "verdict_no_map": "이 실행들은 지도에서 시작하지 않아 확인할 추천이 없습니다.",
    "verdict_agree_best": "실험 결과가 지도와 일치합니다: 추천 계획 {plan}이(가) 가장 높은 검증 정확도({acc:.1f}%)를 냈습니다.",
    "verdict_agree_close": "실험 결과가 지도와 일치합니다: 추천 계획 {plan}({acc:.1f}%)이(가) 최고인 {best_plan}({best_acc:.1f}%)과 "
                           "{tol:.0f}%p 안쪽 차이입니다.",
    "verdict_disagree": "실험 결과가 지도와 다릅니다: {best_plan}이(가) {best_acc:.1f}%로 추천 계획 {plan}({acc:.1f}%)보다 "
                        "{gap:.1f}%p 높습니다. 경계 근처이거나 에포크가 적거나 검증 세트가 작으면 그럴 수 있습니다. 에포크를 늘려 보세요.",
    "compare_none": "계획을 고르고 비교 실행을 누르세요.",
    "compare_next": "다음: 이미지로 모델 시험하기 →",
    "col_balanced": "균형 정확도",
}
