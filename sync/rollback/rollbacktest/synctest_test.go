package rollbacktest_test

import (
	"testing"
	"testing/synctest"
)

func synctestRun(t *testing.T, f func()) {
	synctest.Test(t, func(*testing.T) { f() })
}
