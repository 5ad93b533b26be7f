package infer

// Native ONNX models from faceplugin-face-recognition-js@0.0.1, described from
// their graphs and the package's own preprocessing code. File is relative to
// the model cache. Mean/Std are in 0..255 pixel units.
var (
	// FRDetect is Ultra-Light-Fast-Generic-Face-Detector RFB-320: 4420 priors,
	// scores [bg, face] and boxes as SSD offsets (variances 0.1/0.2).
	FRDetect = Spec{
		Name: "fr_detect", File: "faceplugin/fr_detect.onnx",
		Input: ImageInput{Name: "input", Width: 320, Height: 240, Layout: NCHW, Order: RGB,
			Mean: [3]float32{127, 127, 127}, Std: [3]float32{128, 128, 128}},
		Outputs: []Output{{Name: "scores", Shape: []int64{1, 4420, 2}}, {Name: "boxes", Shape: []int64{1, 4420, 4}}},
	}
	// FRLandmark regresses 68 points (x,y in 0..1 of the square crop) from a
	// 64x64 grey crop scaled to 0..1 by /256 as fr_landmark.js does (measured:
	// /255 gives the same points to 0.1 px; raw 0..255 collapses them).
	FRLandmark = Spec{
		Name: "fr_landmark", File: "faceplugin/fr_landmark.onnx",
		Input: ImageInput{Name: "input", Width: 64, Height: 64, Layout: NCHW, Order: Gray,
			Mean: [3]float32{0, 0, 0}, Std: [3]float32{256, 256, 256}},
		Outputs: []Output{{Name: "output", Shape: []int64{1, 136}}},
	}
	// FRFeature is MobileFaceNet: a 512-d embedding of a 112x112 aligned face.
	FRFeature = Spec{
		Name: "fr_feature", File: "faceplugin/fr_feature.onnx",
		Input: ImageInput{Name: "input", Width: 112, Height: 112, Layout: NCHW, Order: RGB,
			Mean: [3]float32{127, 127, 127}, Std: [3]float32{128, 128, 128}},
		Outputs: []Output{{Name: "output", Shape: []int64{1, 512}}},
	}
	// FRLiveness is a MiniFASNet-style passive anti-spoofing classifier, 3
	// outputs with index 0 = live. Raw 0..255 input.
	FRLiveness = Spec{
		Name: "fr_liveness", File: "faceplugin/fr_liveness.onnx",
		Input: ImageInput{Name: "input", Width: 128, Height: 128, Layout: NCHW, Order: BGR,
			Mean: [3]float32{0, 0, 0}, Std: [3]float32{1, 1, 1}},
		Outputs: []Output{{Name: "output", Shape: []int64{1, 3}}},
	}
	// FREye classifies one 24x24 grey eye crop as closed/open, input 0..1.
	FREye = Spec{
		Name: "fr_eye", File: "faceplugin/fr_eye.onnx",
		Input: ImageInput{Name: "input", Width: 24, Height: 24, Layout: NCHW, Order: Gray,
			Mean: [3]float32{0, 0, 0}, Std: [3]float32{255, 255, 255}},
		Outputs: []Output{{Name: "output", Shape: []int64{1, 2}}},
	}
	// FRPose is a HopeNet-style head pose net: 66 bins each for yaw, pitch, roll
	// (3-degree bins from -99), ImageNet normalisation.
	FRPose = Spec{
		Name: "fr_pose", File: "faceplugin/fr_pose.onnx",
		Input: ImageInput{Name: "input", Width: 224, Height: 224, Layout: NCHW, Order: RGB,
			Mean: [3]float32{0.485 * 255, 0.456 * 255, 0.406 * 255}, Std: [3]float32{0.229 * 255, 0.224 * 255, 0.225 * 255}},
		Outputs: []Output{{Name: "output", Shape: []int64{1, 66}}, {Name: "617", Shape: []int64{1, 66}}, {Name: "618", Shape: []int64{1, 66}}},
	}
)

// NativeModels lists the faceplugin models in load order.
func NativeModels() []Spec {
	return []Spec{FRDetect, FRLandmark, FRFeature, FRLiveness, FREye, FRPose}
}
