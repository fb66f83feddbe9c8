"""The measured map (lab sweep, calibrated boundaries), the learning curve and the honest verdict, in English and Korean."""

EN = {
    # Reasons (tlcore.decision.recommend with measured boundaries, and the evidence line)
    "reason_size_large_measured": "About {ipc:,.0f} images per class is at or above {large:,}, the size from which "
                                  "the lab sweep of {model} measured retraining the body to pay off.",
    "reason_size_small_measured": "About {ipc:,.0f} images per class is below {large:,}, the size under which the "
                                  "lab sweep of {model} measured the lighter plans to do as well or better.",
    "reason_sim_similar_measured": "Similarity {sim:.2f} ({src}) is at or above {threshold:.2f}, the boundary "
                                   "measured for {model}: its frozen features already describe these images well.",
    "reason_sim_different_measured": "Similarity {sim:.2f} ({src}) is below {threshold:.2f}, the boundary measured "
                                     "for {model}: its frozen features fit these images poorly.",
    "reason_boundaries_measured": "These boundaries are measured, not assumed: fitted to a lab sweep of {model} "
                                  "({cells} cells, every plan over {seeds} seeds). With them the map's plan is within "
                                  "{tol:.0f} points of the best plan in {agreement:.0f} % of the cells; with the rule "
                                  "of thumb ({rot_size:,} images per class, similarity {rot_sim}) in {agreement_rot:.0f} %.",
    "reason_boundaries_rule_of_thumb": "These boundaries are the rule of thumb for ImageNet-sized networks: no sweep "
                                       "has measured them for this backbone. Where it matters, measure them on your "
                                       "data: Compare, learning curve.",
    # The measured regions on the map page
    "measured_title": "Measured regions: where each plan really won",
    "measured_toggle": "Show the regions measured for {model}",
    "measured_caption": "Each cell is a lab dataset at one size and similarity, coloured by the plan with the best "
                        "mean validation accuracy over {seeds} seeds; paler: a smaller margin; grey: a tie (the margin "
                        "is within the seeds' noise). Dashed lines: the rule of thumb; solid lines: the boundaries "
                        "fitted to the sweep. Point at a cell for the four accuracies.",
    "measured_agreement": "With the fitted boundaries the map's plan is within {tol:.0f} points of the winner in "
                          "**{measured:.0f} %** of the cells; with the rule of thumb in **{rot:.0f} %**.",
    "measured_loo": "Fitted without a cell, the boundaries still get that cell right in {loo:.0f} % of the cells: "
                    "how well the fit carries to data it has not seen.",
    "measured_machine": "{cpu}, {cores} cores",
    "measured_source": "Measured by `{command}` on {machine} ({date}; {hours:.1f} hours of training in all).",
    "measured_none": "No sweep has measured {model}, so the map uses the rule of thumb. The lab sweep measures "
                     "labnet; on your own data, Compare's learning curve measures the size boundary.",
    "measured_in_use": "The map uses the boundaries measured for {model}: {size:,.0f} images per class and similarity "
                       "{sim:.2f} (rule of thumb: {rot_size:,} and {rot_sim}).",
    "measured_x": "Training images per class",
    "measured_cell": "{n:,} images per class · similarity {sim:.2f} (dial {dial:.2f})",
    "measured_winner": "winner: {plan}, +{margin:.1f} points",
    "measured_tie": "a tie: {plan} leads by {margin:.1f} points, within the seeds' noise",
    "measured_legend_tie": "tie",
    "measured_rule": "rule of thumb",
    "measured_fit": "fitted",
    # Home: why the lines move
    "home_lines_title": "Why the lines move",
    "home_lines_body": "The map's boundaries are a rule of thumb for ImageNet-sized networks, and where each plan "
                       "really wins moves with the network's capacity (a small network has fewer weights to overfit, "
                       "so retraining it pays off with far fewer images), with augmentation (which stretches what a "
                       "few images can teach) and with the learning rate (a gentle rate for the pretrained layers "
                       "keeps what they know while they adapt). So this app measures the lines where it can: the lab "
                       "sweep fits them for labnet (the map's measured regions), and Compare's learning curve shows "
                       "the size boundary on your own data.",
    # Compare: modes, seeds, the honest verdict
    "compare_mode": "Compare",
    "compare_mode_plans": "plans on all the data",
    "compare_mode_curve": "learning curve: plans on growing subsets",
    "compare_seeds": "Seeds per plan",
    "compare_seeds_help": "Train each plan several times with different random seeds: the spread shows how much a "
                          "result moves by chance, and the verdict weighs the gap against it.",
    "verdict_too_close": "Too close to call: {best_plan} ({best_acc:.1f}% ± {best_spread:.1f}) is {gap:.1f} points "
                         "above the recommended {plan} ({acc:.1f}% ± {spread:.1f}), within the spread over {seeds} "
                         "seeds. Neither plan is clearly better on this data.",
    "verdict_disagree_plateau": "The experiment disagrees with the map: {best_plan} reached {best_acc:.1f}%, {gap:.1f} "
                                "points above the recommended {plan} ({acc:.1f}%). Both trained to a plateau, so more "
                                "epochs would not change this: here the map's boundary does not fit this data and "
                                "backbone. The learning curve shows where the plans cross.",
    # Learning curve (Compare's second mode, and `python -m tlcore curve`)
    "curve_intro": "Each chosen plan trains on nested subsets of the training images (the same share of every class; "
                   "the same validation images each time). The chart shows the best validation accuracy against "
                   "training images per class: where the lines cross is the size boundary, measured on this data.",
    "curve_fractions": "Shares of the training images",
    "curve_start": "Run the learning curve",
    "curve_queued": "{n} runs queued: {plans} at {fractions}, {seeds} seed(s) each.",
    "curve_progress": "{done} of {total} runs finished.",
    "curve_none": "Choose plans and shares, then press Run the learning curve.",
    "curve_x": "Training images per class",
    "curve_y": "Best validation accuracy",
    "curve_crossover": "With more than about {n:,.0f} training images per class, {above} overtakes {below}.",
    "curve_crossover_label": "crossover ≈ {n:,.0f}",
    "curve_no_crossover": "No crossover in this range: {leader} leads at every size measured.",
    "curve_one_seed": "One run per plan and share: a gap of a few points can be chance. Train 2 or 3 seeds "
                      "before trusting where the lines cross (and enough epochs for every plan to level off).",
    "curve_boundary": "the map's size boundary ({kind}): {n:,.0f}",
    "curve_kind_measured": "measured",
    "curve_kind_rule_of_thumb": "rule of thumb",
    "curve_col_share": "Share",
    "curve_col_ipc": "Images per class",
    "curve_col_acc": "Best accuracy",
    "curve_col_runs": "Runs",
    "curve_unknown": "No runs found for learning curve {group}.",
}

KO = {
    "reason_size_large_measured": "클래스당 약 {ipc:,.0f}장은 {large:,}장 이상입니다: {model}의 실험실 스윕에서 "
                                  "이 크기부터 몸통까지 재학습하는 편이 더 나았습니다.",
    "reason_size_small_measured": "클래스당 약 {ipc:,.0f}장은 {large:,}장보다 적습니다: {model}의 실험실 스윕에서 "
                                  "이보다 적을 때는 더 가벼운 계획이 같거나 더 나았습니다.",
    "reason_sim_similar_measured": "유사도 {sim:.2f}({src})는 {model}에 대해 측정한 경계 {threshold:.2f} 이상입니다: "
                                   "동결된 특징이 이 이미지들을 이미 잘 설명합니다.",
    "reason_sim_different_measured": "유사도 {sim:.2f}({src})는 {model}에 대해 측정한 경계 {threshold:.2f}보다 "
                                     "낮습니다: 동결된 특징이 이 이미지들과 잘 맞지 않습니다.",
    "reason_boundaries_measured": "이 경계는 가정이 아니라 측정값입니다: {model}의 실험실 스윕({cells}개 칸, 모든 계획을 "
                                  "시드 {seeds}개로 학습)에 맞춘 값입니다. 이 경계를 쓰면 지도의 계획이 {agreement:.0f}%의 "
                                  "칸에서 최고 계획과 {tol:.0f}%p 안쪽이고, 경험칙(클래스당 {rot_size:,}장, 유사도 "
                                  "{rot_sim})을 쓰면 {agreement_rot:.0f}%입니다.",
    "reason_boundaries_rule_of_thumb": "이 경계는 ImageNet 규모 신경망을 위한 경험칙입니다: 이 백본에 대해서는 아직 스윕으로 "
                                       "측정하지 않았습니다. 중요하다면 내 데이터로 직접 재 보세요: 계획 비교의 학습 곡선.",
    "measured_title": "측정한 영역: 각 계획이 실제로 이긴 곳",
    "measured_toggle": "{model}에 대해 측정한 영역 보기",
    "measured_caption": "칸 하나는 크기와 유사도가 정해진 실험실 데이터셋 하나이며, 시드 {seeds}개의 평균 검증 정확도가 "
                        "가장 높은 계획의 색으로 칠했습니다. 색이 옅을수록 차이가 작고, 회색은 무승부입니다(차이가 시드에 "
                        "따른 흔들림 안쪽). 점선은 경험칙, 실선은 스윕에 맞춘 경계입니다. 칸을 가리키면 네 계획의 정확도가 "
                        "보입니다.",
    "measured_agreement": "맞춘 경계를 쓰면 지도의 계획이 **{measured:.0f}%의 칸**에서 최고 계획과 {tol:.0f}%p "
                          "안쪽이고, 경험칙을 쓰면 **{rot:.0f}%의 칸**에서 그렇습니다.",
    "measured_loo": "칸 하나를 빼고 경계를 맞춰도 그 칸을 맞게 고르는 경우가 {loo:.0f}%입니다: 맞추는 데 쓰지 않은 "
                    "데이터에도 경계가 얼마나 들어맞는지 보여 줍니다.",
    "measured_machine": "{cpu}, 코어 {cores}개",
    "measured_source": "측정: `{command}`, {machine} ({date}; 학습 시간 합계 {hours:.1f}시간).",
    "measured_none": "{model}은(는) 아직 스윕으로 측정하지 않아 지도가 경험칙을 씁니다. 실험실 스윕은 labnet을 측정합니다. "
                     "내 데이터에서는 계획 비교의 학습 곡선이 크기 경계를 재 줍니다.",
    "measured_in_use": "지도는 {model}에 대해 측정한 경계를 씁니다: 클래스당 {size:,.0f}장, 유사도 {sim:.2f} "
                       "(경험칙: {rot_size:,}장, {rot_sim}).",
    "measured_x": "클래스당 학습 이미지 수",
    "measured_cell": "클래스당 {n:,}장 · 유사도 {sim:.2f} (다이얼 {dial:.2f})",
    "measured_winner": "승자: {plan}, +{margin:.1f}%p",
    "measured_tie": "무승부: {plan}이(가) {margin:.1f}%p 앞서지만 시드에 따른 흔들림 안쪽입니다",
    "measured_legend_tie": "무승부",
    "measured_rule": "경험칙",
    "measured_fit": "측정한 경계",
    "home_lines_title": "경계선은 왜 움직일까요",
    "home_lines_body": "지도의 경계는 ImageNet 규모 신경망을 위한 경험칙이며, 각 계획이 실제로 이기는 곳은 신경망의 용량(작은 "
                       "신경망은 과적합할 가중치가 적어서 훨씬 적은 이미지로도 재학습이 이득입니다), 데이터 증강(적은 "
                       "이미지로 배울 수 있는 것을 늘려 줍니다), 학습률(사전 학습된 층을 조심스러운 학습률로 학습하면 아는 "
                       "것을 지키면서 적응합니다)에 따라 달라집니다. 그래서 이 앱은 잴 수 있는 곳에서는 경계를 직접 잽니다: "
                       "실험실 스윕이 labnet의 경계를 맞추고(지도의 측정한 영역), 계획 비교의 학습 곡선이 내 데이터에서 "
                       "크기 경계를 보여 줍니다.",
    "compare_mode": "비교 방식",
    "compare_mode_plans": "전체 데이터로 계획 비교",
    "compare_mode_curve": "학습 곡선: 데이터를 늘려 가며 계획 비교",
    "compare_seeds": "계획별 시드 수",
    "compare_seeds_help": "계획마다 무작위 시드를 바꿔 여러 번 학습합니다. 결과가 우연히 얼마나 흔들리는지 보여 주고, "
                          "결론은 그 흔들림과 차이를 견주어 내립니다.",
    "verdict_too_close": "판단하기에는 차이가 너무 작습니다: {best_plan}({best_acc:.1f}% ± {best_spread:.1f})이(가) 추천 "
                         "계획 {plan}({acc:.1f}% ± {spread:.1f})보다 {gap:.1f}%p 높지만, 시드 {seeds}개에 따른 흔들림 "
                         "안쪽입니다. 이 데이터에서는 어느 계획도 뚜렷하게 낫지 않습니다.",
    "verdict_disagree_plateau": "실험 결과가 지도와 다릅니다: {best_plan}이(가) {best_acc:.1f}%로 추천 계획 "
                                "{plan}({acc:.1f}%)보다 {gap:.1f}%p 높습니다. 두 계획 모두 더 오르지 않는 지점까지 "
                                "학습했으므로 에포크를 늘려도 달라지지 않습니다: 이 데이터와 백본에는 지도의 경계가 맞지 "
                                "않습니다. 학습 곡선으로 계획들이 엇갈리는 지점을 확인해 보세요.",
    "curve_intro": "고른 계획마다 학습 이미지의 일부(모든 클래스에서 같은 비율, 작은 부분은 큰 부분에 포함)로 학습하고, "
                   "검증 이미지는 매번 같습니다. 차트는 클래스당 학습 이미지 수에 따른 최고 검증 정확도를 보여 주며, "
                   "선이 엇갈리는 곳이 이 데이터에서 잰 크기 경계입니다.",
    "curve_fractions": "학습 이미지 비율",
    "curve_start": "학습 곡선 실행",
    "curve_queued": "실행 {n}개를 대기열에 넣었습니다: {plans}, 비율 {fractions}, 각각 시드 {seeds}개.",
    "curve_progress": "실행 {total}개 중 {done}개가 끝났습니다.",
    "curve_none": "계획과 비율을 고르고 학습 곡선 실행을 누르세요.",
    "curve_x": "클래스당 학습 이미지 수",
    "curve_y": "최고 검증 정확도",
    "curve_crossover": "클래스당 학습 이미지가 약 {n:,.0f}장보다 많으면 {above}이(가) {below}을(를) 앞지릅니다.",
    "curve_crossover_label": "교차점 ≈ {n:,.0f}",
    "curve_no_crossover": "이 범위에는 교차점이 없습니다: 잰 모든 크기에서 {leader}이(가) 앞섭니다.",
    "curve_one_seed": "계획과 비율마다 한 번씩만 학습했습니다: 몇 점 차이는 우연일 수 있습니다. 선이 만나는 곳을 "
                      "믿기 전에 시드 2~3개로 학습하세요 (모든 계획이 더 오르지 않을 만큼 에포크도 충분히).",
    "curve_boundary": "지도의 크기 경계({kind}): {n:,.0f}",
    "curve_kind_measured": "측정값",
    "curve_kind_rule_of_thumb": "경험칙",
    "curve_col_share": "비율",
    "curve_col_ipc": "클래스당 이미지",
    "curve_col_acc": "최고 정확도",
    "curve_col_runs": "실행",
    "curve_unknown": "학습 곡선 {group}의 실행을 찾을 수 없습니다.",
}
