"""Several GPUs and the per-session queue limit (issue 17), in English and Korean."""

EN = {
    "gpus_label": "GPUs",
    "gpus_help": "Train on several GPUs of this machine at once (one process each, DistributedDataParallel). "
                 "The batch size is shared out among them.",
    "queue_limit": "You already have a run waiting in the queue (place {position}). A session may have {limit} "
                   "waiting at a time, so that everyone gets a turn: wait until it starts training, or stop it "
                   "on the Runs page, then start another.",
}

KO = {
    "gpus_label": "GPU 수",
    "gpus_help": "이 컴퓨터의 GPU 여러 개로 동시에 학습합니다(GPU마다 프로세스 하나, DistributedDataParallel). "
                 "배치 크기는 GPU들이 나누어 맡습니다.",
    "queue_limit": "이미 대기열에서 기다리는 학습이 있습니다({position}번째). 모두가 차례를 얻도록 한 세션은 "
                   "한 번에 {limit}개까지만 기다릴 수 있습니다. 그 학습이 시작될 때까지 기다리거나 실행 기록 "
                   "페이지에서 멈춘 뒤 새로 시작하세요.",
}
