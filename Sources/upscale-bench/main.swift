import UpscaleKit
print("upscale-bench: not yet")
