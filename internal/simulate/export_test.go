package simulate

// SessionScene is the scene of the evaluation session with this seed.
func SessionScene(cfg EvalConfig, seed uint64) Scene { return cfg.scene(seed) }
