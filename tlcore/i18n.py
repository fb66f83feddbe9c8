"""Every user-visible text of the app, in English and Korean, looked up by key."""
from __future__ import annotations

from .decision import LARGE_IMAGES_PER_CLASS, SIMILAR_THRESHOLD

LANGS = ("en", "ko")
LANG_NAMES = {"en": "English", "ko": "한국어"}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        # -- general ----------------------------------------------------------
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
        # -- home -------------------------------------------------------------
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
        # -- quadrant labels on the map -------------------------------------------
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
        # -- charts -----------------------------------------------------------------
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
        # -- data -------------------------------------------------------------------
        "data_title": "1 · Your data",
        "data_intro": "Pick the images to train on. The built-in lab makes a dataset of coloured shapes on the spot, "
                      "with two dials: how many images per class, and how similar they look to the world the lab's "
                      "network (labnet) was pretrained on.",
        "data_source": "Where do the images come from?",
        "source_lab": "Built-in lab (offline)",
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
        "metric_per_class": "Images per class",
        "metric_size": "Size",
        "size_small": "small",
        "size_large": "large",
        "data_split": "{train} images for training, {val} for validation ({how}).",
        "val_source_folder": "from the dataset's own val/ folder",
        "val_source_split": "a random 20% of each class",
        "data_counts": "**Images per class**",
        "data_samples": "**Examples of each class**",
        "skipped_title": "Skipped files ({n})",
        "skipped_none": "Every file could be used.",
        "col_file": "File",
        "col_reason": "Reason",
        "col_detail": "Detail",
        "data_next": "Next: the decision map →",
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
        "dataset_caption": "Data: {label} · {images:,} images · {classes} classes · {ipc:,.0f} per class",
        # -- decision map -------------------------------------------------------------
        "map_title": "2 · The decision map",
        "model_label": "Pretrained network (backbone)",
        "model_help": "labnet is the lab's own small network (offline, fast). The others are ImageNet networks; "
                      "their weights are downloaded once and need a network connection.",
        "map_q1": "**Question 1. How much data do you have?**",
        "map_ipc": "Images per class",
        "map_ipc_help": "Filled in from your data; change it to ask what would happen with more or fewer images.",
        "map_ipc_from_data": "Your data has {ipc:,.0f} images per class (training and validation together).",
        "map_q2": "**Question 2. How similar are your images to what the network learned from?**",
        "map_sim_label": "Your estimate",
        "sim_same_world": "The same kind of images",
        "sim_same_world_example": "e.g. an ImageNet network and new dog breeds in everyday photos",
        "sim_related": "Related images, other subjects",
        "sim_related_example": "e.g. everyday photos → flowers, dishes or car models",
        "sim_somewhat_different": "Somewhat different",
        "sim_somewhat_different_example": "e.g. photos → satellite images, sketches or product drawings",
        "sim_very_different": "Very different",
        "sim_very_different_example": "e.g. photos → X-rays, microscope slides or sound spectrograms",
        "map_measure": "Measure it",
        "map_measure_help": "Measures how well the network's frozen features already separate your classes.",
        "map_measuring": "Measuring the similarity with frozen features...",
        "map_measured": "Measured similarity: {score:.2f} (± {err:.2f})",
        "map_use_measured": "Use the measured similarity",
        "map_click_hint": "Click a quadrant to see what the map would say if your data were there; click the star to come back.",
        "map_rec_title": "Quadrant {q}: {plan}",
        "map_alternatives": "Worth comparing as well: {plans}.",
        "map_whatif": "What if your data were in quadrant {q}? The plan would be **{plan}**. {reason} "
                      "(Your data stays in quadrant {home}.)",
        "map_back": "Back to my data",
        "map_layers_title": "**Layers of {model} under {plan}**",
        "map_layers_caption": "{trainable:,} parameters are trained, {frozen:,} stay frozen.",
        "map_train": "Train with {plan} →",
        "reason_size_large": "About {ipc:,.0f} images per class is at or above {large:,}: enough to retrain deep layers without overfitting.",
        "reason_size_small": "About {ipc:,.0f} images per class is below {large:,}: too few to retrain many layers without overfitting.",
        "reason_sim_similar": "Similarity {sim:.2f} ({src}) is at or above {threshold}: the pretrained features already describe these images well.",
        "reason_sim_different": "Similarity {sim:.2f} ({src}) is below {threshold}: the pretrained features fit these images poorly.",
        "reason_quadrant1": "Large and different: fine-tune the whole network, starting from the pretrained weights (and compare with training from scratch).",
        "reason_quadrant2": "Large and similar: retrain the output-side layers (the last stage and the output layer); fine-tuning the full network is the alternative.",
        "reason_quadrant3": "Small and different, the hardest case: freeze the early, generic layers, retrain the last {top_stages} stage(s) and the output layer, and augment the data against overfitting.",
        "reason_quadrant4": "Small and similar: freeze the whole backbone and train only a new output layer; fine-tuning more would overfit the few images.",
        "reason_size_borderline": "The size is close to the boundary: the neighbouring quadrant's plan is worth comparing.",
        "reason_sim_borderline": "The similarity is close to the boundary: the neighbouring quadrant's plan is worth comparing.",
        "src_measured": "measured",
        "src_user": "your estimate",
        "plan_head": "head: new output layer only",
        "plan_top": "top: last stages + output layer",
        "plan_top_n": "top: last {n} stage(s) + output layer",
        "plan_full": "full: fine-tune everything",
        "plan_scratch": "scratch: random start",
        # -- train ------------------------------------------------------------------
        "train_title": "3 · Train",
        "train_rec": "The map recommends **{plan}** (quadrant {q}). Change anything below, then start.",
        "train_settings": "Settings",
        "plan_label": "Plan (what to freeze)",
        "plan_help": "head: freeze the backbone, train a new output layer. top: also retrain the last stages. "
                     "full: retrain everything from the pretrained weights. scratch: random weights, no transfer.",
        "top_stages_label": "Stages to retrain (freeze depth)",
        "top_stages_help": "For the top plan: how many of the last stages are trained; the earlier ones stay frozen.",
        "epochs_label": "Epochs",
        "batch_label": "Batch size",
        "lr_label": "Learning rate",
        "lr_help": "Of the output layer; fine-tuned layers of the full plan use a tenth of it.",
        "augment_label": "Data augmentation",
        "augment_help": "Random crops, flips and colour changes during training: fewer overfitting problems with small data.",
        "device_caption": "Runs on: {name} ({detail}).",
        "weights_missing": "{model} needs its ImageNet weights, which are not on this server yet ({path}). Without a "
                           "network connection the run will fail; choose labnet to stay offline.",
        "train_plan_caption": "This plan trains {trainable:,} parameters and keeps {frozen:,} frozen.",
        "start": "Start training",
        "train_next_compare": "Next: compare all plans →",
        "train_next_predict": "Try the model on images",
        "train_no_run": "No run yet: press Start training. The run keeps going if you leave this page or close the tab.",
        "run_title": "**{name}** · {model} · `{run_id}` · {status}",
        "status_queued": "queued",
        "status_running": "running",
        "status_completed": "completed",
        "status_stopped": "stopped",
        "status_failed": "failed",
        "run_queued": "Waiting for the device: place {pos} in the queue. It starts by itself.",
        "run_waiting": "Starting...",
        "phase_queue": "Waiting for a free device",
        "phase_data": "Reading the dataset",
        "phase_weights": "Loading the pretrained weights",
        "phase_features": "Computing the frozen features once",
        "phase_start": "Starting the run process",
        "run_progress": "Epoch {epoch}/{total} · {ips:,.0f} images/s · about {eta} left",
        "run_progress_done": "{epochs} of {total} epochs",
        "run_fit_caption": "{train:,} training and {val:,} validation images on {device}; {trainable:,} parameters trained, {frozen:,} frozen{cache}.",
        "run_feature_cache": " (frozen features computed once and reused)",
        "metric_best_val": "Best validation accuracy",
        "metric_last_train": "Training accuracy (last epoch)",
        "metric_epochs": "Epochs",
        "stop": "Stop",
        "run_failed": "The run failed.",
        "weights_offline_hint": "Offline? Choose the labnet backbone with the built-in lab data: it needs no download.",
        "run_stopped": "The run was stopped. The best model so far is kept.",
        "run_completed": "Done: best validation accuracy {acc:.1%}.",
        "results_title": "Results of the best epoch",
        "results_per_class": "**Accuracy per class**",
        "results_confusion": "**Confusion matrix** (rows: true class)",
        "results_mistakes": "**Misclassified validation images** ({n}, most confident first)",
        "mistake_caption": "{true} → {pred} ({conf:.0%})",
        "download_model": "Download the trained model (best.pt)",
        "run_option": "{name} · {model} · {acc:.1%} · {status} · {when}",
        # -- compare ------------------------------------------------------------------
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
        # -- predict ------------------------------------------------------------------
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
        # -- runs -----------------------------------------------------------------------
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
    },
    "ko": {
        # -- general ----------------------------------------------------------
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
        # -- home -------------------------------------------------------------
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
        # -- quadrant labels on the map -------------------------------------------
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
        # -- charts -----------------------------------------------------------------
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
        # -- data -------------------------------------------------------------------
        "data_title": "1 · 데이터",
        "data_intro": "학습할 이미지를 고르세요. 내장 실험실은 색칠된 도형 이미지를 그 자리에서 만들어 냅니다. "
                      "다이얼은 두 개입니다: 클래스당 이미지 수, 그리고 실험실 신경망(labnet)이 사전 학습한 세계와 "
                      "얼마나 비슷해 보이는지.",
        "data_source": "이미지를 어디서 가져올까요?",
        "source_lab": "내장 실험실 (오프라인)",
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
        "metric_per_class": "클래스당 이미지",
        "metric_size": "크기",
        "size_small": "적음",
        "size_large": "많음",
        "data_split": "학습용 {train}장, 검증용 {val}장 ({how}).",
        "val_source_folder": "데이터셋의 val/ 폴더 사용",
        "val_source_split": "클래스마다 무작위 20%",
        "data_counts": "**클래스별 이미지 수**",
        "data_samples": "**클래스별 예시**",
        "skipped_title": "건너뛴 파일 ({n})",
        "skipped_none": "모든 파일을 쓸 수 있습니다.",
        "col_file": "파일",
        "col_reason": "이유",
        "col_detail": "자세히",
        "data_next": "다음: 결정 지도 →",
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
        "dataset_caption": "데이터: {label} · 이미지 {images:,}장 · 클래스 {classes}개 · 클래스당 {ipc:,.0f}장",
        # -- decision map -------------------------------------------------------------
        "map_title": "2 · 결정 지도",
        "model_label": "사전 학습된 신경망 (백본)",
        "model_help": "labnet은 실험실 전용 작은 신경망입니다(오프라인, 빠름). 나머지는 ImageNet 신경망이며 "
                      "가중치를 처음 한 번 내려받아야 하므로 인터넷 연결이 필요합니다.",
        "map_q1": "**질문 1. 데이터가 얼마나 있나요?**",
        "map_ipc": "클래스당 이미지 수",
        "map_ipc_help": "데이터에서 채워 넣은 값입니다. 이미지가 더 많거나 적으면 어떻게 될지 바꿔 보세요.",
        "map_ipc_from_data": "내 데이터는 클래스당 {ipc:,.0f}장입니다 (학습과 검증 합계).",
        "map_q2": "**질문 2. 내 이미지가 신경망이 배운 데이터와 얼마나 비슷한가요?**",
        "map_sim_label": "내 판단",
        "sim_same_world": "같은 종류의 이미지",
        "sim_same_world_example": "예: ImageNet 신경망으로 일상 사진 속 새로운 개 품종 구분",
        "sim_related": "비슷한 이미지, 다른 대상",
        "sim_related_example": "예: 일상 사진 → 꽃, 음식, 자동차 모델",
        "sim_somewhat_different": "조금 다름",
        "sim_somewhat_different_example": "예: 사진 → 위성 사진, 스케치, 제품 도면",
        "sim_very_different": "아주 다름",
        "sim_very_different_example": "예: 사진 → 엑스레이, 현미경 슬라이드, 소리 스펙트로그램",
        "map_measure": "직접 측정하기",
        "map_measure_help": "신경망의 동결된 특징만으로 내 클래스들이 얼마나 잘 나뉘는지 측정합니다.",
        "map_measuring": "동결된 특징으로 유사도를 측정하는 중...",
        "map_measured": "측정한 유사도: {score:.2f} (± {err:.2f})",
        "map_use_measured": "측정한 유사도 사용",
        "map_click_hint": "사분면을 클릭하면 내 데이터가 그곳에 있을 때의 답을 보여 줍니다. 별을 클릭하면 돌아옵니다.",
        "map_rec_title": "사분면 {q}: {plan}",
        "map_alternatives": "함께 비교해 볼 만한 계획: {plans}.",
        "map_whatif": "내 데이터가 사분면 {q}에 있다면? 계획은 **{plan}**입니다. {reason} (내 데이터는 그대로 사분면 {home}에 있습니다.)",
        "map_back": "내 데이터로 돌아가기",
        "map_layers_title": "**{plan} 계획에서 {model}의 층**",
        "map_layers_caption": "파라미터 {trainable:,}개를 학습하고 {frozen:,}개는 동결합니다.",
        "map_train": "{plan}(으)로 학습하기 →",
        "reason_size_large": "클래스당 약 {ipc:,.0f}장은 {large:,}장 이상입니다: 깊은 층까지 재학습해도 과적합되지 않을 만큼 충분합니다.",
        "reason_size_small": "클래스당 약 {ipc:,.0f}장은 {large:,}장보다 적습니다: 많은 층을 재학습하면 과적합되기 쉽습니다.",
        "reason_sim_similar": "유사도 {sim:.2f}({src})는 {threshold} 이상입니다: 사전 학습된 특징이 이 이미지들을 이미 잘 설명합니다.",
        "reason_sim_different": "유사도 {sim:.2f}({src})는 {threshold}보다 낮습니다: 사전 학습된 특징이 이 이미지들과 잘 맞지 않습니다.",
        "reason_quadrant1": "많고 다름: 사전 학습된 가중치에서 출발해 신경망 전체를 미세 조정합니다 (처음부터 학습한 결과와도 비교해 보세요).",
        "reason_quadrant2": "많고 비슷함: 출력층 쪽 층(마지막 단계와 출력층)을 재학습합니다. 전체 미세 조정도 대안입니다.",
        "reason_quadrant3": "적고 다름, 가장 어려운 경우: 앞쪽의 일반적인 층은 동결하고 마지막 {top_stages}개 단계와 출력층을 재학습하며, 과적합을 막기 위해 데이터 증강을 씁니다.",
        "reason_quadrant4": "적고 비슷함: 백본 전체를 동결하고 새 출력층만 학습합니다. 더 많이 미세 조정하면 적은 이미지에 과적합됩니다.",
        "reason_size_borderline": "크기가 경계에 가깝습니다: 이웃 사분면의 계획도 비교해 볼 만합니다.",
        "reason_sim_borderline": "유사도가 경계에 가깝습니다: 이웃 사분면의 계획도 비교해 볼 만합니다.",
        "src_measured": "측정값",
        "src_user": "내 판단",
        "plan_head": "head: 새 출력층만 학습",
        "plan_top": "top: 마지막 단계 + 출력층 재학습",
        "plan_top_n": "top: 마지막 {n}개 단계 + 출력층 재학습",
        "plan_full": "full: 전체 미세 조정",
        "plan_scratch": "scratch: 무작위 초기값에서 학습",
        # -- train ------------------------------------------------------------------
        "train_title": "3 · 학습",
        "train_rec": "지도의 추천은 **{plan}** (사분면 {q})입니다. 아래에서 바꿀 것을 바꾸고 시작하세요.",
        "train_settings": "설정",
        "plan_label": "계획 (무엇을 동결할지)",
        "plan_help": "head: 백본을 동결하고 새 출력층만 학습. top: 마지막 단계들도 재학습. "
                     "full: 사전 학습된 가중치에서 전체를 재학습. scratch: 무작위 가중치, 전이 없음.",
        "top_stages_label": "재학습할 단계 수 (동결 깊이)",
        "top_stages_help": "top 계획에서 마지막 몇 단계를 학습할지 정합니다. 그 앞 단계는 동결됩니다.",
        "epochs_label": "에포크",
        "batch_label": "배치 크기",
        "lr_label": "학습률",
        "lr_help": "출력층의 학습률입니다. full 계획에서 미세 조정되는 층은 그 10분의 1을 씁니다.",
        "augment_label": "데이터 증강",
        "augment_help": "학습 중 무작위 자르기, 뒤집기, 색 변화: 데이터가 적을 때 과적합을 줄입니다.",
        "device_caption": "실행 장치: {name} ({detail}).",
        "weights_missing": "{model}에는 ImageNet 가중치가 필요한데 아직 이 서버에 없습니다 ({path}). 인터넷 연결이 없으면 "
                           "학습이 실패합니다. 오프라인에서는 labnet을 고르세요.",
        "train_plan_caption": "이 계획은 파라미터 {trainable:,}개를 학습하고 {frozen:,}개를 동결합니다.",
        "start": "학습 시작",
        "train_next_compare": "다음: 모든 계획 비교 →",
        "train_next_predict": "이미지로 모델 시험하기",
        "train_no_run": "아직 실행이 없습니다. 학습 시작을 누르세요. 이 페이지를 떠나거나 탭을 닫아도 학습은 계속됩니다.",
        "run_title": "**{name}** · {model} · `{run_id}` · {status}",
        "status_queued": "대기 중",
        "status_running": "학습 중",
        "status_completed": "완료",
        "status_stopped": "중지됨",
        "status_failed": "실패",
        "run_queued": "장치를 기다리는 중: 대기열 {pos}번째입니다. 차례가 되면 저절로 시작합니다.",
        "run_waiting": "시작하는 중...",
        "phase_queue": "비어 있는 장치를 기다리는 중",
        "phase_data": "데이터셋을 읽는 중",
        "phase_weights": "사전 학습된 가중치를 불러오는 중",
        "phase_features": "동결된 특징을 한 번 계산하는 중",
        "phase_start": "학습 프로세스를 시작하는 중",
        "run_progress": "에포크 {epoch}/{total} · 초당 {ips:,.0f}장 · 약 {eta} 남음",
        "run_progress_done": "에포크 {total}개 중 {epochs}개",
        "run_fit_caption": "{device}에서 학습 이미지 {train:,}장, 검증 이미지 {val:,}장; 파라미터 {trainable:,}개 학습, {frozen:,}개 동결{cache}.",
        "run_feature_cache": " (동결된 특징은 한 번 계산해 재사용)",
        "metric_best_val": "최고 검증 정확도",
        "metric_last_train": "학습 정확도 (마지막 에포크)",
        "metric_epochs": "에포크",
        "stop": "중지",
        "run_failed": "학습이 실패했습니다.",
        "weights_offline_hint": "오프라인인가요? 내장 실험실 데이터와 labnet 백본을 고르세요. 다운로드가 필요 없습니다.",
        "run_stopped": "학습을 중지했습니다. 지금까지의 최고 모델은 남아 있습니다.",
        "run_completed": "완료: 최고 검증 정확도 {acc:.1%}.",
        "results_title": "최고 에포크의 결과",
        "results_per_class": "**클래스별 정확도**",
        "results_confusion": "**혼동 행렬** (행: 실제 클래스)",
        "results_mistakes": "**잘못 분류한 검증 이미지** ({n}장, 확신이 큰 것부터)",
        "mistake_caption": "{true} → {pred} ({conf:.0%})",
        "download_model": "학습된 모델 내려받기 (best.pt)",
        "run_option": "{name} · {model} · {acc:.1%} · {status} · {when}",
        # -- compare ------------------------------------------------------------------
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
        # -- predict ------------------------------------------------------------------
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
        # -- runs -----------------------------------------------------------------------
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
    },
}


def t(key: str, lang: str = "en", **fmt) -> str:
    """The text for ``key`` in ``lang`` (English when missing), formatted with ``fmt``."""
    table = TEXT.get(lang) or TEXT["en"]
    text = table.get(key)
    if text is None:
        text = TEXT["en"].get(key, key)
    defaults = {"large": LARGE_IMAGES_PER_CLASS}
    try:
        return text.format(**{**defaults, **fmt})
    except (KeyError, IndexError, ValueError):
        return text


def has(key: str) -> bool:
    return key in TEXT["en"]


def plan_name(plan: str, lang: str = "en", top_stages: int | None = None) -> str:
    if plan == "top" and top_stages:
        return t("plan_top_n", lang, n=top_stages)
    return t(f"plan_{plan}", lang) if has(f"plan_{plan}") else plan


def reason_lines(rec, images_per_class: float, lang: str = "en") -> list[str]:
    """The recommendation's reasons (``rec.reason_keys``) in ``lang``."""
    params = {
        "ipc": float(images_per_class),
        "sim": float(rec.similarity),
        "src": t(f"src_{'measured' if rec.similarity_source == 'measured' else 'user'}", lang),
        "threshold": SIMILAR_THRESHOLD,
        "top_stages": rec.top_stages,
    }
    return [t(f"reason_{k}", lang, **params) for k in rec.reason_keys]


def _join(value) -> str:
    if isinstance(value, (list, tuple)):
        shown = ", ".join(str(v) for v in value[:10])
        return shown + (f" (+{len(value) - 10})" if len(value) > 10 else "")
    return value


def warning_text(warning: dict, lang: str = "en") -> str:
    """A dataset warning ({"code", "params"}) in ``lang``."""
    code = warning.get("code", "")
    params = {k: _join(v) for k, v in (warning.get("params") or {}).items()}
    if has(f"warn_{code}"):
        return t(f"warn_{code}", lang, **params)
    return t("warn_other", lang, code=code, params=", ".join(f"{k}={v}" for k, v in params.items()))


def skip_text(reason: str, lang: str = "en") -> str:
    return t(f"skip_{reason}", lang) if has(f"skip_{reason}") else reason


def verdict_text(verdict, lang: str = "en") -> str:
    """A comparison verdict (tlcore.service.Verdict) in ``lang``, with plan names spelled out."""
    params = dict(verdict.params)
    for k in ("plan", "best_plan"):
        if k in params:
            params[k] = plan_name(params[k], lang)
    return t(verdict.key, lang, **params)
