"""Starting weights (pretrained, a weights folder, an upload) and their messages, in English and Korean."""

EN = {
    "weights_label": "Starting weights",
    "weights_help": "Pretrained: the network's own weights (learned on ImageNet; labnet: on the lab world). "
                    "Or start from a weights file: one in the server's weights folder, or one you upload "
                    "(.pth, .pt or .safetensors: a state_dict of the same network, or a model trained here).",
    "weights_pretrained_offline": "Pretrained (on this machine)",
    "weights_pretrained_download": "Pretrained (downloads once)",
    "weights_folder_file": "{label} (weights folder)",
    "weights_upload_option": "Upload a weights file…",
    "weights_upload_label": "Weights file for {model}",
    "weights_upload_help": "A .pth, .pt or .safetensors file with the weights of {model} (its state_dict), "
                           "or a best.pt downloaded from a run of this app. It is checked before anything runs.",
    "weights_upload_first": "Upload a weights file to use it.",
    "weights_file_ok": "The file fits {model}: every layer's weights were found.",
    "weights_note_weights_head_replaced": "The file's output layer has {n} classes: everything else is used, "
                                          "and a new output layer for your classes replaces it.",
    "weights_needs_download": "{model} needs its ImageNet weights, which are not on this server yet: the first run "
                              "downloads them once, and that needs an internet connection. Without one: upload a "
                              "weights file for {model} above, pick one from the server's weights folder, or choose "
                              "efficientnet_lite0 (real ImageNet weights that come with the app).",
    "weights_offline_error": "Could not download the ImageNet weights for {model} (no internet connection?). "
                             "What you can do: upload a weights file for {model} in the \"Starting weights\" field; "
                             "ask the server's administrator to put one in the weights folder; or choose the "
                             "efficientnet_lite0 network, whose ImageNet weights come with the app and work offline.",
}

KO = {
    "weights_label": "시작 가중치",
    "weights_help": "사전 학습: 신경망이 원래 가진 가중치입니다(ImageNet으로 학습, labnet은 실험실 세계로 학습). "
                    "가중치 파일에서 시작할 수도 있습니다. 서버의 가중치 폴더에 있는 파일이나 직접 올린 파일"
                    "(.pth, .pt, .safetensors: 같은 신경망의 state_dict, 또는 이 앱에서 학습한 모델)을 쓰세요.",
    "weights_pretrained_offline": "사전 학습 가중치 (이 컴퓨터에 있음)",
    "weights_pretrained_download": "사전 학습 가중치 (처음 한 번 내려받음)",
    "weights_folder_file": "{label} (가중치 폴더)",
    "weights_upload_option": "가중치 파일 올리기…",
    "weights_upload_label": "{model}의 가중치 파일",
    "weights_upload_help": "{model}의 가중치(state_dict)를 담은 .pth, .pt, .safetensors 파일이나, 이 앱의 실행에서 "
                           "내려받은 best.pt를 올리세요. 무엇이든 실행하기 전에 먼저 검사합니다.",
    "weights_upload_first": "사용하려면 가중치 파일을 올리세요.",
    "weights_file_ok": "파일이 {model}에 맞습니다. 모든 층의 가중치를 찾았습니다.",
    "weights_note_weights_head_replaced": "파일의 출력층은 클래스가 {n}개입니다. 나머지는 모두 쓰고, 출력층은 "
                                          "내 클래스에 맞는 새 층으로 바꿉니다.",
    "weights_needs_download": "{model}에는 ImageNet 가중치가 필요한데 아직 이 서버에 없습니다. 처음 실행할 때 한 번 내려받으며, "
                              "이때 인터넷 연결이 필요합니다. 연결이 없다면 위에서 {model}의 가중치 파일을 올리거나, "
                              "서버의 가중치 폴더에서 파일을 고르거나, efficientnet_lite0을 고르세요(앱과 함께 설치되는 "
                              "실제 ImageNet 가중치입니다).",
    "weights_offline_error": "{model}의 ImageNet 가중치를 내려받지 못했습니다(인터넷 연결이 없나요?). 이렇게 해 보세요: "
                             "\"시작 가중치\" 칸에서 {model}의 가중치 파일을 올리거나, 서버 관리자에게 가중치 폴더에 "
                             "파일을 넣어 달라고 하거나, efficientnet_lite0 신경망을 고르세요. 이 신경망의 ImageNet "
                             "가중치는 앱과 함께 설치되어 인터넷 없이 쓸 수 있습니다.",
}
