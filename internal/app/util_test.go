package app_test

import (
	"sync/atomic"

	"github.com/herald-hq/herald/internal/config"
)

type cfgT = config.Config

type atomicBool struct{ v atomic.Bool }

func (b *atomicBool) get() bool  { return b.v.Load() }
func (b *atomicBool) set(v bool) { b.v.Store(v) }
